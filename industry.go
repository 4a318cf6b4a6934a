package admeter

// Industry is a tenant's industry vertical: the advertiser's line of
// business, by which industry benchmarks pool campaigns. The list is fixed
// (see Industries) so that every tenant of a vertical lands in the same
// cell; "" means not set, and such a tenant's campaigns are in no
// benchmark.
type Industry string

// The industry verticals. Their scope follows the categories Chinese
// advertising reports commonly use (汽车, 快消, 电商零售, 金融, 游戏, …).
const (
	IndustryAutomotive         Industry = "automotive"           // cars, motorcycles, dealers, auto services
	IndustryFMCG               Industry = "fmcg"                 // household and daily-use goods (日化家清) other than food, drink and beauty
	IndustryRetailEcommerce    Industry = "retail_ecommerce"     // e-commerce platforms, department stores, shops
	IndustryFinance            Industry = "finance"              // banks, insurance, securities, payments
	IndustryGaming             Industry = "gaming"               // mobile, PC and console games
	IndustryTravel             Industry = "travel"               // airlines, hotels, travel agencies, ride hailing
	IndustryEducation          Industry = "education"            // schools, training, learning apps
	IndustryHealthcare         Industry = "healthcare"           // hospitals, pharmacy, health products
	IndustryTechElectronics    Industry = "tech_electronics"     // phones, computers, appliances (3C), software
	IndustryFoodBeverage       Industry = "food_beverage"        // food, drinks, restaurants
	IndustryBeautyPersonalCare Industry = "beauty_personal_care" // cosmetics, skin care, personal care
	IndustryRealEstate         Industry = "real_estate"          // property developers, agencies, home furnishing
	IndustryTelecom            Industry = "telecom"              // carriers, broadband
	IndustryMediaEntertainment Industry = "media_entertainment"  // film, video, music, publishing, events
	IndustryOther              Industry = "other"                // anything else
)

// IndustryInfo is an industry vertical with its names.
type IndustryInfo struct {
	ID Industry `json:"id"`
	ZH string   `json:"zh"`
	EN string   `json:"en"`
}

// Industries lists every industry vertical, in display order, with its
// Chinese and English names.
var Industries = []IndustryInfo{
	{IndustryAutomotive, "汽车", "Automotive"},
	{IndustryFMCG, "快消日化", "FMCG & household"},
	{IndustryRetailEcommerce, "零售电商", "Retail & e-commerce"},
	{IndustryFinance, "金融", "Finance"},
	{IndustryGaming, "游戏", "Gaming"},
	{IndustryTravel, "旅游出行", "Travel"},
	{IndustryEducation, "教育", "Education"},
	{IndustryHealthcare, "医疗健康", "Healthcare"},
	{IndustryTechElectronics, "3C数码", "Tech & electronics"},
	{IndustryFoodBeverage, "食品饮料", "Food & beverage"},
	{IndustryBeautyPersonalCare, "美妆个护", "Beauty & personal care"},
	{IndustryRealEstate, "房产家居", "Real estate"},
	{IndustryTelecom, "通信", "Telecom"},
	{IndustryMediaEntertainment, "文化娱乐", "Media & entertainment"},
	{IndustryOther, "其他", "Other"},
}

// Valid reports whether i is one of the defined verticals ("" is not).
func (i Industry) Valid() bool {
	_, ok := i.Info()
	return ok
}

// Info returns the vertical's names; ok is false for an undefined one.
func (i Industry) Info() (info IndustryInfo, ok bool) {
	for _, in := range Industries {
		if in.ID == i {
			return in, true
		}
	}
	return IndustryInfo{}, false
}

// CheckIndustry returns nil for "" (not set) and a defined vertical, and an
// EINVALID error naming the choices otherwise.
func CheckIndustry(i Industry) error {
	if i == "" || i.Valid() {
		return nil
	}
	return Errorf(EINVALID, "industry must be one of automotive, fmcg, retail_ecommerce, finance, gaming, travel, education, healthcare, tech_electronics, food_beverage, beauty_personal_care, real_estate, telecom, media_entertainment, other (or empty), not %q", i)
}

package geoip

import "strings"

// countryCodes maps the Chinese country and territory names used by IPIP.net
// databases to ISO 3166-1 alpha-2 codes (XK for Kosovo, as MaxMind uses). It
// covers every place name in the embedded database plus common variants seen
// in commercial editions. Names that are not places (局域网, 保留地址, 欧盟,
// 亚太地区, operator domains, ...) are deliberately absent, so they map to "".
var countryCodes = map[string]string{
	// China, and the names commercial editions use for its SARs and Taiwan.
	"中国": "CN", "香港": "HK", "澳门": "MO", "台湾": "TW",
	"中国香港": "HK", "中国澳门": "MO", "中国台湾": "TW",

	// Asia.
	"日本": "JP", "韩国": "KR", "朝鲜": "KP", "蒙古": "MN", "新加坡": "SG",
	"马来西亚": "MY", "泰国": "TH", "越南": "VN", "菲律宾": "PH", "印度尼西亚": "ID",
	"柬埔寨": "KH", "老挝": "LA", "缅甸": "MM", "文莱": "BN", "东帝汶": "TL",
	"印度": "IN", "巴基斯坦": "PK", "孟加拉": "BD", "孟加拉国": "BD", "尼泊尔": "NP",
	"不丹": "BT", "斯里兰卡": "LK", "马尔代夫": "MV", "阿富汗": "AF",
	"哈萨克斯坦": "KZ", "吉尔吉斯斯坦": "KG", "塔吉克斯坦": "TJ", "乌兹别克斯坦": "UZ",
	"土库曼斯坦": "TM", "伊朗": "IR", "伊拉克": "IQ", "叙利亚": "SY", "约旦": "JO",
	"黎巴嫩": "LB", "以色列": "IL", "巴勒斯坦": "PS", "沙特阿拉伯": "SA", "也门": "YE",
	"阿曼": "OM", "阿联酋": "AE", "阿拉伯联合酋长国": "AE", "卡塔尔": "QA", "巴林": "BH",
	"科威特": "KW", "土耳其": "TR", "格鲁吉亚": "GE", "亚美尼亚": "AM", "阿塞拜疆": "AZ",
	"塞浦路斯": "CY",

	// Europe.
	"英国": "GB", "爱尔兰": "IE", "法国": "FR", "德国": "DE", "荷兰": "NL",
	"比利时": "BE", "卢森堡": "LU", "瑞士": "CH", "奥地利": "AT", "列支敦士登": "LI",
	"意大利": "IT", "圣马力诺": "SM", "梵蒂冈": "VA", "马耳他": "MT", "西班牙": "ES",
	"葡萄牙": "PT", "安道尔": "AD", "摩纳哥": "MC", "直布罗陀": "GI", "丹麦": "DK",
	"瑞典": "SE", "挪威": "NO", "芬兰": "FI", "冰岛": "IS", "法罗群岛": "FO",
	"奥兰群岛": "AX", "格陵兰": "GL", "爱沙尼亚": "EE", "拉脱维亚": "LV", "立陶宛": "LT",
	"波兰": "PL", "捷克": "CZ", "捷克共和国": "CZ", "斯洛伐克": "SK", "匈牙利": "HU",
	"罗马尼亚": "RO", "保加利亚": "BG", "希腊": "GR", "斯洛文尼亚": "SI", "克罗地亚": "HR",
	"波斯尼亚和黑塞哥维那": "BA", "塞尔维亚": "RS", "黑山": "ME", "科索沃": "XK",
	"阿尔巴尼亚": "AL", "马其顿": "MK", "北马其顿": "MK", "摩尔多瓦": "MD", "乌克兰": "UA",
	"白俄罗斯": "BY", "俄罗斯": "RU", "泽西岛": "JE", "根西岛": "GG", "马恩岛": "IM",

	// Americas.
	"美国": "US", "加拿大": "CA", "墨西哥": "MX", "危地马拉": "GT", "伯利兹": "BZ",
	"萨尔瓦多": "SV", "洪都拉斯": "HN", "尼加拉瓜": "NI", "哥斯达黎加": "CR", "巴拿马": "PA",
	"古巴": "CU", "牙买加": "JM", "海地": "HT", "多米尼加": "DO", "多米尼加共和国": "DO",
	"波多黎各": "PR", "巴哈马": "BS", "巴巴多斯": "BB", "特立尼达和多巴哥": "TT",
	"格林纳达": "GD", "圣卢西亚": "LC", "圣文森特和格林纳丁斯": "VC", "多米尼克": "DM",
	"安提瓜和巴布达": "AG", "圣基茨和尼维斯": "KN", "安圭拉": "AI", "蒙特塞拉特岛": "MS",
	"英属维尔京群岛": "VG", "美属维尔京群岛": "VI", "开曼群岛": "KY", "百慕大": "BM",
	"特克斯和凯科斯群岛": "TC", "阿鲁巴": "AW", "库拉索": "CW", "荷兰加勒比": "BQ",
	"荷属圣马丁": "SX", "法属圣马丁": "MF", "圣巴泰勒米岛": "BL", "瓜德罗普": "GP",
	"马提尼克岛": "MQ", "圣皮埃尔和密克隆群岛": "PM", "哥伦比亚": "CO", "委内瑞拉": "VE",
	"圭亚那": "GY", "苏里南": "SR", "法属圭亚那": "GF", "厄瓜多尔": "EC", "秘鲁": "PE",
	"玻利维亚": "BO", "巴西": "BR", "巴拉圭": "PY", "乌拉圭": "UY", "阿根廷": "AR",
	"智利": "CL", "福克兰群岛": "FK",

	// Africa.
	"埃及": "EG", "利比亚": "LY", "突尼斯": "TN", "阿尔及利亚": "DZ", "摩洛哥": "MA",
	"苏丹": "SD", "南苏丹": "SS", "埃塞俄比亚": "ET", "厄立特里亚": "ER", "吉布提": "DJ",
	"索马里": "SO", "肯尼亚": "KE", "乌干达": "UG", "卢旺达": "RW", "布隆迪": "BI",
	"坦桑尼亚": "TZ", "马拉维": "MW", "莫桑比克": "MZ", "赞比亚": "ZM", "津巴布韦": "ZW",
	"博茨瓦纳": "BW", "纳米比亚": "NA", "南非": "ZA", "莱索托": "LS", "斯威士兰": "SZ",
	"埃斯瓦蒂尼": "SZ", "安哥拉": "AO", "刚果民主共和国": "CD", "刚果（金）": "CD",
	"刚果共和国": "CG", "刚果（布）": "CG", "加蓬": "GA", "赤道几内亚": "GQ", "喀麦隆": "CM",
	"中非": "CF", "乍得": "TD", "尼日尔": "NE", "尼日利亚": "NG", "贝宁": "BJ",
	"多哥": "TG", "加纳": "GH", "科特迪瓦": "CI", "利比里亚": "LR", "塞拉利昂": "SL",
	"几内亚": "GN", "几内亚比绍": "GW", "塞内加尔": "SN", "冈比亚": "GM", "马里": "ML",
	"布基纳法索": "BF", "毛里塔尼亚": "MR", "佛得角": "CV", "圣多美和普林西比": "ST",
	"马达加斯加": "MG", "毛里求斯": "MU", "塞舌尔": "SC", "科摩罗": "KM", "留尼汪岛": "RE",
	"马约特": "YT", "英属印度洋领地": "IO",

	// Oceania and Antarctica.
	"澳大利亚": "AU", "新西兰": "NZ", "巴布亚新几内亚": "PG", "斐济": "FJ",
	"所罗门群岛": "SB", "瓦努阿图": "VU", "新喀里多尼亚": "NC", "萨摩亚": "WS",
	"美属萨摩亚": "AS", "汤加": "TO", "图瓦卢": "TV", "基里巴斯": "KI", "瑙鲁": "NR",
	"马绍尔群岛": "MH", "密克罗尼西亚联邦": "FM", "帕劳": "PW", "关岛": "GU",
	"北马里亚纳群岛": "MP", "法属波利尼西亚": "PF", "瓦利斯和富图纳群岛": "WF",
	"库克群岛": "CK", "纽埃岛": "NU", "托克劳群岛": "TK", "诺福克岛": "NF", "圣诞岛": "CX",
	"南极洲": "AQ",
}

// chinese reports whether places in country are named in Chinese.
func chinese(country string) bool {
	switch country {
	case "CN", "HK", "MO", "TW":
		return true
	}
	return false
}

// longProvinces maps the official names of China's province-level divisions
// that do not end in 省 or 市 to their common short form.
var longProvinces = map[string]string{
	"内蒙古自治区":    "内蒙古",
	"广西壮族自治区":   "广西",
	"西藏自治区":     "西藏",
	"宁夏回族自治区":   "宁夏",
	"新疆维吾尔自治区":  "新疆",
	"香港特别行政区":   "香港",
	"澳门特别行政区":   "澳门",
	"中国香港特别行政区": "香港",
	"中国澳门特别行政区": "澳门",
}

// shortProvince returns the common short name of a Chinese province-level
// division: 广东省 → 广东, 北京市 → 北京, 新疆维吾尔自治区 → 新疆. Names
// already short, and names it does not know, are returned unchanged.
func shortProvince(s string) string {
	if short, ok := longProvinces[s]; ok {
		return short
	}
	for _, suffix := range []string{"省", "市"} {
		if t, ok := strings.CutSuffix(s, suffix); ok && len(t) >= len("广东") {
			return t
		}
	}
	return s
}

// shortCity returns the common short name of a mainland city: 深圳市 → 深圳.
// Only the 市 suffix is removed, and only when at least two characters
// remain; prefectures such as 锡林郭勒盟 or 恩施土家族苗族自治州 are kept whole.
func shortCity(s string) string {
	if t, ok := strings.CutSuffix(s, "市"); ok && len(t) >= len("深圳") {
		return t
	}
	return s
}

package socialsim

// The vocabulary of the generated texts: Chinese consumer talk about
// phones. The sentiment phrases use words of social/sentiment's lexicon
// (不错, 清晰, 实惠, 卡顿, 太贵…), but the generator does not promise a
// label: the scorer reads whole sentences.

// topic is one thing people say about a phone, with what they say.
type topic struct {
	word                        string
	positive, negative, neutral []string
}

var topics = []topic{
	{"续航", []string{"续航真不错", "续航很给力", "电池很耐用"}, []string{"续航太差了", "掉电太快", "电池不耐用"}, []string{"续航怎么样", "一天一充"}},
	{"拍照", []string{"拍照很清晰", "夜景拍照绝了", "拍人像很好看"}, []string{"拍照很模糊", "夜景噪点严重", "拍照偏色"}, []string{"拍照效果如何", "拍照和前代差不多"}},
	{"价格", []string{"价格很实惠", "性价比很高", "这个价格很划算"}, []string{"价格太贵了", "溢价严重", "简直是智商税"}, []string{"现在什么价格", "价格和去年一样"}},
	{"售后", []string{"售后服务很好", "客服态度很好", "换新很快"}, []string{"售后太差了", "客服态度恶劣", "维修等了半个月"}, []string{"售后网点在哪", "保修期多久"}},
	{"屏幕", []string{"屏幕很好看", "屏幕色彩很舒服"}, []string{"屏幕有点暗", "屏幕容易碎"}, []string{"屏幕多大", "屏幕是曲面的"}},
	{"系统", []string{"系统很流畅", "系统用着很顺手"}, []string{"系统卡顿", "系统广告太多", "老是闪退"}, []string{"系统更新了", "系统是最新版"}},
	{"充电", []string{"充电很快", "快充真香"}, []string{"充电太慢", "充电发烫"}, []string{"充电器另买", "充电功率多少"}},
	{"信号", []string{"信号很稳", "地铁里信号也好"}, []string{"信号不好", "电梯里没信号"}, []string{"信号和别的差不多", "支持双卡"}},
}

// openers start a post; "" is none.
var openers = []string{"", "", "", "今天入手了", "用了一周，", "说实话，", "朋友推荐的", "刚看完测评，", "家人们，", "纠结中，", "终于到手了，", "换机第一天，", "第二次买了，", "路过门店看了下"}

// endings end a post.
var endings = []string{"", "。", "！", "～", "[哈哈]", "[doge]", "👍", "#数码#", "#手机#", "😂", "，大家怎么看？", "。。。"}

// details make posts differ the way real ones do; %d is a small number.
var details = []string{"，用了%d天", "，买了%d个月", "，等了%d天才到货", "，第%d次推荐", "，比上一台强%d倍", "，排队%d分钟"}

// comparisons join two rules in one post: %s are their terms.
var comparisons = []string{"%s和%s比哪个好？", "%s还是%s，纠结", "从%s换到%s", "%s对比%s，", "%s比%s"}

// exclusionTexts name an exclusion (%s), usually a place, and no rule.
var exclusionTexts = []string{"今天路过%s，新开了一家咖啡店", "周末在%s堵了一个小时", "%s的房价又涨了", "有人知道%s附近哪里好停车吗", "在%s吃了火锅，好吃", "%s今天搞活动，好多人"}

// noiseTexts name no rule.
var noiseTexts = []string{"今天天气真好", "午饭吃什么", "加班好累", "周末去爬山了", "这部剧太好看了", "终于放假了", "奶茶又涨价了", "地铁好挤", "新买的耳机音质不错", "健身第%d天", "楼下的猫又来了", "考试加油"}

// commentTexts are comments that name no rule.
var commentTexts = []string{"求链接", "同款", "+1", "说得对", "哈哈哈", "蹲一个测评", "在哪买的", "真的假的", "已下单", "学到了", "mark", "关注了"}

// mentionComments name the rule (%s) in a comment, with a topic word (%s)
// or phrase.
var mentionComments = []string{"%s的%s怎么样？", "我也在用%s，%s", "%s%s", "听说%s的%s一般"}

// repostComments are what a repost adds before the chain.
var repostComments = []string{"转发微博", "转发微博", "转发微博", "说得对", "确实", "[赞]", "马住", "同感", "有道理"}

// officialTexts are the official account's announcements; %s is the
// brand's name, %d the day of the month.
var officialTexts = []string{"【%s官方】新品发布会今晚八点见", "【%s官方】双十二优惠第%d天", "【%s官方】感谢大家的支持", "【%s官方】售后服务全面升级", "【%s官方】夜景拍照大赛开始啦", "【%s官方】你最喜欢哪个颜色？"}

// officialSuffix makes each official post its own: the brand and the
// date.
const officialSuffix = " #%s# %s"

// searchSuffixes make search terms of a rule's term.
var searchSuffixes = []string{"", "价格", " 续航", "怎么样", "售后", " 拍照"}

// nearEdits are the characters a near copy puts in or swaps.
var nearEdits = []rune("的了很真也都还就")

// handlePrefixes start author handles; a number makes each unique.
var handlePrefixes = []string{"lazycat", "橙子", "moonlight", "小鹿", "数码控", "tech_fan", "阿杰", "summer", "芒果", "kiki", "夜猫子", "runner", "青柠", "老张", "bluesky", "米粒"}

// sources are where ordinary authors post, with their weights.
var sources = []struct {
	name   string
	weight float64
}{{"weibo", 0.6}, {"xiaohongshu", 0.25}, {"douyin", 0.15}}

// searchSource is the source of search aggregates.
const searchSource = "baidu-index"

// hourWeights is the diurnal curve of posting, by local hour.
var hourWeights = [24]float64{3, 2, 1, 0.5, 0.3, 0.3, 0.8, 2, 3, 4, 4, 5, 7, 6, 4, 4, 4, 5, 6, 7, 9, 10, 9, 6}

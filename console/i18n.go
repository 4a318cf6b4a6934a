package console

import (
	"net/http"
	"strings"
)

// Languages the console speaks; zh is the default.
const (
	langZH = "zh"
	langEN = "en"
)

// langCookie remembers the language a user chose.
const langCookie = "admeter_lang"

// messages holds every label, by key, in each language.
var messages = map[string]map[string]string{
	langZH: {
		"app":            "admeter 广告监测",
		"signin":         "登录",
		"signout":        "退出",
		"email":          "邮箱",
		"password":       "密码",
		"totp":           "动态验证码(如已开启)",
		"campaigns":      "广告活动",
		"new_campaign":   "新建活动",
		"name":           "名称",
		"landing_url":    "落地页 URL",
		"placements":     "广告位",
		"placement":      "广告位",
		"media":          "媒体",
		"timezone":       "时区",
		"create":         "创建",
		"created":        "创建时间",
		"no_campaigns":   "还没有广告活动。在下方新建一个,然后把监测代码交给媒体。",
		"dashboard":      "数据概览",
		"codes":          "监测代码",
		"from":           "开始日期",
		"to":             "结束日期",
		"apply":          "查询",
		"impressions":    "曝光",
		"clicks":         "点击",
		"ctr":            "点击率",
		"uv":             "独立用户",
		"reach":          "到达",
		"avg_frequency":  "平均频次",
		"over_time":      "曝光与点击趋势",
		"cumulative":     "累计到达",
		"frequency":      "频次分布",
		"top_placements": "广告位排行",
		"regions":        "地区分布",
		"os_split":       "操作系统",
		"export_csv":     "导出 CSV",
		"export_xlsx":    "导出 Excel",
		"no_data":        "暂无数据",
		"copy":           "复制",
		"copied":         "已复制",
		"impression_url": "曝光监测",
		"click_url":      "点击监测",
		"snippet":        "网页代码",
		"language":       "English",
		"placement_hint": "每行一个广告位:名称,媒体",
		"error":          "出错了",
		"back":           "返回",
		"last_events":    "最近收到的事件",
		"no_events":      "还没有收到事件。把代码交给媒体后,这里会显示最新的曝光和点击。",
		"time":           "时间",
		"kind":           "类型",
		"region":         "地区",
		"os":             "系统",
		"forbidden":      "你的角色不能执行此操作。",
		"signed_in_as":   "当前用户",
		"account":        "账户",
		"users":          "用户",
		"tokens":         "API 令牌",
		"requests":       "用户权利请求",
		"audit":          "审计日志",
		"role":           "角色",
		"status":         "状态",
		"role_owner":     "所有者",
		"role_admin":     "管理员",
		"role_analyst":   "分析师",
		"role_viewer":    "只读",
		"disabled":       "已停用",
		"enabled":        "有效",
		"scopes":         "权限范围",
		"last_used":      "最近使用",
		"revoked":        "已吊销",
		"expired":        "已过期",
		"no_tokens":      "还没有 API 令牌。",
		"tokens_hint":    "令牌只在创建时显示一次;通过 API(POST /api/v1/tokens)创建或吊销。",
		"received":       "收到时间",
		"due":            "截止日期",
		"days_left":      "剩余工作日",
		"minor":          "未成年人",
		"req_access":     "查阅副本",
		"req_delete":     "删除",
		"req_optout":     "退出",
		"st_pending":     "待处理",
		"st_processing":  "处理中",
		"st_done":        "已完成",
		"st_failed":      "失败",
		"overdue":        "已逾期",
		"no_requests":    "没有用户权利请求。",
		"actor":          "操作者",
		"action":         "操作",
		"target":         "对象",
		"outcome":        "结果",
		"network":        "网段",
		"impression":     "曝光",
		"click":          "点击",
		"served":         "下发",
		"report_builder": "自定义报表",
		"edit_campaign":  "编辑活动",
		"add_placements": "新增广告位",
		"save":           "保存",
		"dimensions":     "维度",
		"total":          "合计",
		"dim_day":        "日期",
		"dim_hour":       "小时",
		"dim_placement":  "广告位",
		"dim_media":      "媒体",
		"dim_region":     "地区",
		"dim_os":         "操作系统",
		"dim_device":     "设备类型",
	},
	langEN: {
		"app":            "admeter ad measurement",
		"signin":         "Sign in",
		"signout":        "Sign out",
		"email":          "Email",
		"password":       "Password",
		"totp":           "Authenticator code (if enabled)",
		"campaigns":      "Campaigns",
		"new_campaign":   "New campaign",
		"name":           "Name",
		"landing_url":    "Landing page URL",
		"placements":     "Placements",
		"placement":      "Placement",
		"media":          "Media",
		"timezone":       "Time zone",
		"create":         "Create",
		"created":        "Created",
		"no_campaigns":   "No campaigns yet. Create one below, then hand its monitoring codes to the media.",
		"dashboard":      "Dashboard",
		"codes":          "Monitoring codes",
		"from":           "From",
		"to":             "To",
		"apply":          "Apply",
		"impressions":    "Impressions",
		"clicks":         "Clicks",
		"ctr":            "CTR",
		"uv":             "Unique users",
		"reach":          "Reach",
		"avg_frequency":  "Avg. frequency",
		"over_time":      "Impressions and clicks over time",
		"cumulative":     "Cumulative reach",
		"frequency":      "Frequency distribution",
		"top_placements": "Top placements",
		"regions":        "Regions",
		"os_split":       "Operating systems",
		"export_csv":     "Export CSV",
		"export_xlsx":    "Export Excel",
		"no_data":        "No data yet",
		"copy":           "Copy",
		"copied":         "Copied",
		"impression_url": "Impression tracking",
		"click_url":      "Click tracking",
		"snippet":        "Web snippet",
		"language":       "中文",
		"placement_hint": "One placement per line: name, media",
		"error":          "Something went wrong",
		"back":           "Back",
		"last_events":    "Last events received",
		"no_events":      "Nothing received yet. Once the media runs the code, the latest impressions and clicks show here.",
		"time":           "Time",
		"kind":           "Kind",
		"region":         "Region",
		"os":             "OS",
		"forbidden":      "Your role may not do this.",
		"signed_in_as":   "Signed in as",
		"account":        "Account",
		"users":          "Users",
		"tokens":         "API tokens",
		"requests":       "End-user requests",
		"audit":          "Audit trail",
		"role":           "Role",
		"status":         "Status",
		"role_owner":     "Owner",
		"role_admin":     "Admin",
		"role_analyst":   "Analyst",
		"role_viewer":    "Viewer",
		"disabled":       "Disabled",
		"enabled":        "Active",
		"scopes":         "Scopes",
		"last_used":      "Last used",
		"revoked":        "Revoked",
		"expired":        "Expired",
		"no_tokens":      "No API tokens yet.",
		"tokens_hint":    "A token is shown once, when it is created; create and revoke them through the API (POST /api/v1/tokens).",
		"received":       "Received",
		"due":            "Due",
		"days_left":      "Working days left",
		"minor":          "minor",
		"req_access":     "Access copy",
		"req_delete":     "Deletion",
		"req_optout":     "Opt-out",
		"st_pending":     "Pending",
		"st_processing":  "Processing",
		"st_done":        "Done",
		"st_failed":      "Failed",
		"overdue":        "Overdue",
		"no_requests":    "No end-user requests.",
		"actor":          "Actor",
		"action":         "Action",
		"target":         "Object",
		"outcome":        "Outcome",
		"network":        "Network",
		"impression":     "Impression",
		"click":          "Click",
		"served":         "Served",
		"report_builder": "Report builder",
		"edit_campaign":  "Edit campaign",
		"add_placements": "Add placements",
		"save":           "Save",
		"dimensions":     "Dimensions",
		"total":          "Total",
		"dim_day":        "Day",
		"dim_hour":       "Hour",
		"dim_placement":  "Placement",
		"dim_media":      "Media",
		"dim_region":     "Region",
		"dim_os":         "OS",
		"dim_device":     "Device",
	},
}

// translator returns the label function of lang; a missing key shows as
// itself, so a gap is visible rather than blank.
func translator(lang string) func(string) string {
	m := messages[lang]
	return func(key string) string {
		if v, ok := m[key]; ok {
			return v
		}
		return key
	}
}

// langOf picks the page language: ?lang=, then the cookie, then
// Accept-Language (English only when preferred over Chinese), else Chinese.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langZH || l == langEN {
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == langZH || ck.Value == langEN) {
		return ck.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return langZH
		case strings.HasPrefix(tag, "en"):
			return langEN
		}
	}
	return langZH
}

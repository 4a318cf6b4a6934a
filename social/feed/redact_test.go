package feed

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain chinese", "今天天气真好，新款手机好看😀 #春季新品#", "今天天气真好，新款手机好看😀 #春季新品#"},
		{"mention", "@张三 你看这个", "@某人 你看这个"},
		{"mention up to punctuation", "和@李四_2024，一起去", "和@某人，一起去"},
		{"mention runs to a space", "和@李四一起去 好", "和@某人 好"},
		{"mention full-width at", "谢谢＠王五！", "谢谢＠某人！"},
		{"repost chain", "同意//@小王:说得对//@Alice-B: 原文", "同意//@某人:说得对//@某人: 原文"},
		{"english mention", "thanks @bob_smith, great", "thanks @某人, great"},
		{"lone at", "meet @ 3pm", "meet @ 3pm"},
		{"mobile", "电话13812345678联系", "电话[电话]联系"},
		{"mobile dashes", "call 138-1234-5678 now", "call [电话] now"},
		{"mobile spaces", "手机 138 1234 5678。", "手机 [电话]。"},
		{"mobile +86", "+86 13812345678", "[电话]"},
		{"mobile +86 joined", "+8613812345678", "[电话]"},
		{"mobile 0086", "0086-138-1234-5678", "[电话]"},
		{"mobile full-width", "１３８１２３４５６７８", "[电话]"},
		{"mobile after letters", "tel13912345678", "tel[电话]"},
		{"landline", "座机010-12345678", "座机[电话]"},
		{"email", "发到abc.def+x@qq.com谢谢", "发到[邮箱]谢谢"},
		{"email english", "mail me: John.Doe@example.co.uk.", "mail me: [邮箱]."},
		{"email digits", "13812345678@163.com", "[邮箱]"},
		{"not email", "a@b 和 x@y.z", "a@某人 和 x@某人.z"},
		{"id", "身份证11010519491231002X", "身份证[证件号]"},
		{"id digits", "证件号 110105194912310021，", "证件号 [证件号]，"},
		{"id grouped", "110105 19491231 0021", "[证件号]"},
		{"card", "卡号6222021234567890123", "卡号[卡号]"},
		{"card grouped", "6222 0212 3456 7890 123 转账", "[卡号] 转账"},
		{"card 16", "4111111111111111", "[卡号]"},
		{"url", "看这里 https://weibo.com/u/1234567890?from=x 哈哈", "看这里 [链接] 哈哈"},
		{"url www", "详见www.example.com/p/1.", "详见[链接]."},
		{"url t.cn", "链接 t.cn/A6xyz12 ", "链接 [链接] "},
		{"url in chinese", "网址http://a.cn/x，谢谢", "网址[链接]，谢谢"},
		{"url upper", "HTTPS://A.COM", "[链接]"},
		{"not www inside word", "awww.cute", "awww.cute"},
		// False-positive guards.
		{"price", "只要12999元", "只要12999元"},
		{"date", "发布于20261201", "发布于20261201"},
		{"date dashes", "2026-12-01 发布", "2026-12-01 发布"},
		{"date then phone", "2026-12-01 13812345678", "2026-12-01 [电话]"},
		{"order with letters", "订单号SF1234567890", "订单号SF1234567890"},
		{"order 12 digits", "单号138123456789", "单号138123456789"},
		{"not mobile prefix", "12812345678", "12812345678"},
		{"timestamp ms", "1733011200000", "1733011200000"},
		{"long order", "订单12345678901234567890123", "订单12345678901234567890123"},
		{"decimal", "价格13.99元", "价格13.99元"},
		{"plus other", "+1 555 0100", "+1 555 0100"},
		{"emoticon kept", "[哈哈][doge]好", "[哈哈][doge]好"},
		{"hashtag", "#iPhone16#真香", "#iPhone16#真香"},
		{"invalid utf8", "a\xff@b\xfe13812345678", "a\xff@某人\xfe[电话]"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact not idempotent: %q → %q", got, again)
			}
		})
	}
}

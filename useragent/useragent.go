package useragent

import (
	"strings"
	"unicode/utf8"

	"github.com/admeter/admeter"
	mua "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// Info is what a user agent says about the device that sent it. The zero
// Info means "nothing known".
type Info struct {
	OS admeter.OS
	// OSVersion is the OS version as digits and dots ("13", "17.1.2"), or ""
	// when the user agent does not give one. Windows versions are release
	// names ("7", "10", "XP"; "10" also covers Windows 11, which reports NT
	// 10.0), and current browsers freeze macOS at 10.15.7.
	OSVersion string
	// Browser is the browser, in-app browser, app or client name from a fixed
	// list ("Chrome", "WeChat", "Douyin", "Dalvik", "curl", "Googlebot", ...),
	// or "" when unknown.
	Browser    string
	DeviceType admeter.DeviceType
}

// NonBrowser reports whether the request came from an HTTP client rather
// than a browser or a WebView: an app's networking stack (Dalvik, CFNetwork,
// okhttp) or a script or library (curl, python-requests, Go-http-client,
// Java, ...). Dalvik and CFNetwork are what Android and iOS apps, and SDKs
// inside them, send by default, so a true result alone does not make an
// event invalid.
func (i Info) NonBrowser() bool {
	_, ok := clientNames[i.Browser]
	return ok
}

// maxParse is how much of a user agent is parsed. Real ones are rarely
// longer than 500 bytes; the cap bounds the work an attacker can cause.
const maxParse = 1024

// Parser parses user agents. It is safe for concurrent use; create one and
// share it.
type Parser struct {
	p *mua.Parser
}

// New returns a Parser. medama's trie is built on the first call in a
// process (about 50 ms) and shared by every Parser.
func New() *Parser {
	// medama's Parser is read-only after construction: Parse walks the trie
	// and returns a value, so one instance serves all goroutines.
	return &Parser{p: mua.NewParser()}
}

// Parse returns what ua says about the device. An empty ua gives the zero
// Info. Parse never panics, whatever the input.
func (p *Parser) Parse(ua string) Info {
	if ua == "" {
		return Info{}
	}
	if len(ua) > maxParse {
		ua = ua[:maxParse]
	}
	if info, ok := parseClient(ua); ok {
		return info.clipped()
	}
	s := scanUA(ua)
	// medama is consulted only when the scan leaves a question open: the
	// browser of a user agent that names no app, or an unknown OS. In-app
	// traffic, most of what ads see in China, never needs it.
	var m mua.UserAgent
	parsed := false
	medama := func() mua.UserAgent {
		if !parsed {
			m, parsed = p.p.Parse(ua), true
		}
		return m
	}

	var info Info
	info.OS = s.hint.os()
	if info.OS == admeter.OSUnknown {
		info.OS = medamaOS(medama().OS())
	}
	ipadDesktop := info.OS == admeter.OSMacOS && s.mobileID
	if ipadDesktop {
		// Since iPadOS 13 Safari asks for desktop sites with a Mac user
		// agent, but WebViews keep the "Mobile/15E148" build id no Mac sends.
		info.OS = admeter.OSIOS
	} else {
		info.OSVersion = s.osVersion(info.OS)
	}

	if s.bot != "" {
		info.Browser, info.DeviceType = s.bot, admeter.DeviceBot
		if s.sogou && s.bot == genericBot {
			info.Browser = "Sogou Spider"
		}
		return info.clipped()
	}

	if s.app == 0 {
		info.Browser = s.browser(info.OS, medama().Browser())
	} else {
		info.Browser = apps[s.app-1].name
	}

	switch {
	case s.tv || (parsed && m.Device() == agents.DeviceTV):
		info.DeviceType = admeter.DeviceTV
	case ipadDesktop || (info.OS == admeter.OSIOS && s.ipad):
		info.DeviceType = admeter.DeviceTablet
	default:
		info.DeviceType = s.device(info.OS)
		if info.DeviceType == admeter.DeviceUnknown {
			info.DeviceType = medamaDevice(medama().Device())
		}
	}
	return info.clipped()
}

// browser names the browser of a user agent that names no app: a WebView
// when it is one, else medama's answer, else the best engine product.
func (s *scan) browser(os admeter.OS, b agents.Browser) string {
	switch {
	case os == admeter.OSAndroid && s.wv:
		return "Android WebView"
	case os == admeter.OSIOS && b == agents.BrowserSafari && !s.safari:
		// WKWebView drops the Safari token that Safari itself sends.
		return "iOS WebView"
	case b != "":
		return string(b)
	case s.engine != 0:
		return engines[s.engine-1].name
	}
	return ""
}

// device returns the form factor implied by os and the scan, or
// DeviceUnknown when os does not settle it.
func (s *scan) device(os admeter.OS) admeter.DeviceType {
	switch os {
	case admeter.OSIOS, admeter.OSWindowsPhone:
		return admeter.DevicePhone
	case admeter.OSHarmonyOS:
		switch s.form {
		case "Phone":
			return admeter.DevicePhone
		case "Tablet":
			return admeter.DeviceTablet
		case "PC", "2in1":
			return admeter.DeviceDesktop
		}
		fallthrough // HarmonyOS 2–4 send Android user agents
	case admeter.OSAndroid:
		// Android browsers mark phones with "Mobile" and leave it out on
		// tablets.
		if s.mobile {
			return admeter.DevicePhone
		}
		return admeter.DeviceTablet
	case admeter.OSWindows, admeter.OSMacOS, admeter.OSLinux, admeter.OSChromeOS:
		return admeter.DeviceDesktop
	}
	return admeter.DeviceUnknown
}

// osVersion returns the version of os that the user agent gave, or "".
func (s *scan) osVersion(os admeter.OS) string {
	switch os {
	case admeter.OSAndroid:
		return versionAfter(s.versions[verAndroid], "")
	case admeter.OSIOS:
		return versionAfter(s.versions[verIOS], "")
	case admeter.OSHarmonyOS:
		return versionAfter(s.versions[verHarmony], "")
	case admeter.OSWindows:
		return windowsVersion(versionAfter(s.versions[verWindowsNT], ""))
	case admeter.OSWindowsPhone:
		return versionAfter(s.versions[verWindowsPhone], "")
	case admeter.OSMacOS:
		return versionAfter(s.versions[verMac], "")
	case admeter.OSChromeOS:
		return versionAfter(s.versions[verChromeOS], "")
	}
	return ""
}

// medamaOS maps medama's OS names.
func medamaOS(o agents.OS) admeter.OS {
	switch o {
	case agents.OSAndroid:
		return admeter.OSAndroid
	case agents.OSIOS:
		return admeter.OSIOS
	case agents.OSMacOS:
		return admeter.OSMacOS
	case agents.OSWindows:
		return admeter.OSWindows
	case agents.OSChromeOS:
		return admeter.OSChromeOS
	case agents.OSLinux:
		return admeter.OSLinux
	case agents.OSFreeBSD, agents.OSOpenBSD:
		return admeter.OSOther
	}
	return admeter.OSUnknown
}

// medamaDevice maps medama's device types. Its "Bot" is ignored: medama
// gives it to some in-app browsers (Instagram) and to HTTP libraries, while
// real crawlers are recognised by the scan.
func medamaDevice(d agents.Device) admeter.DeviceType {
	switch d {
	case agents.DeviceMobile:
		return admeter.DevicePhone
	case agents.DeviceTablet:
		return admeter.DeviceTablet
	case agents.DeviceDesktop:
		return admeter.DeviceDesktop
	case agents.DeviceTV:
		return admeter.DeviceTV
	}
	return admeter.DeviceUnknown
}

// clipped returns i with its strings cut to admeter.MaxShortField bytes.
// Names and versions are far shorter; this keeps the Event limit a property
// of the parser rather than of the tables.
func (i Info) clipped() Info {
	i.OSVersion = clip(i.OSVersion, admeter.MaxShortField)
	i.Browser = clip(i.Browser, admeter.MaxShortField)
	return i
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// windowsVersion turns an NT version into the Windows release name.
func windowsVersion(nt string) string {
	switch nt {
	case "10.0":
		return "10" // and 11: browsers report NT 10.0 for both
	case "6.3":
		return "8.1"
	case "6.2":
		return "8"
	case "6.1":
		return "7"
	case "6.0":
		return "Vista"
	case "5.1", "5.2":
		return "XP"
	}
	return nt
}

// maxVersion bounds a version string: "17.1.2" or "8.1.0" need far less.
const maxVersion = 16

// versionAfter returns the version that immediately follows the first
// occurrence of prefix in ua ("" for the start of ua): digits, dots and
// underscores, with underscores turned into dots and at most maxVersion
// bytes. It returns "" when no digit follows. The result is a copy, so it
// keeps no reference to ua.
func versionAfter(ua, prefix string) string {
	i := strings.Index(ua, prefix)
	if i < 0 {
		return ""
	}
	s := ua[i+len(prefix):]
	var buf [maxVersion]byte
	n := 0
scan:
	for j := 0; j < len(s) && n < len(buf); j++ {
		switch c := s[j]; {
		case '0' <= c && c <= '9':
			buf[n] = c
		case (c == '.' || c == '_') && n > 0 && buf[n-1] != '.':
			buf[n] = '.'
		default:
			break scan
		}
		n++
	}
	for n > 0 && buf[n-1] == '.' {
		n--
	}
	if n == 0 {
		return ""
	}
	return string(buf[:n])
}

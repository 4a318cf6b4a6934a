package useragent

import (
	"strconv"
	"strings"

	"github.com/admeter/admeter"
)

// clients are HTTP clients that are not browsers, recognised by the start of
// the user agent.
var clients = []struct {
	prefix, name string
	os           admeter.OS
	device       admeter.DeviceType
}{
	// Android's default user agent for HttpURLConnection, used by apps and
	// by SDKs inside them: "Dalvik/2.1.0 (Linux; U; Android 11; M2012K11AC …)".
	{"Dalvik/", "Dalvik", admeter.OSAndroid, admeter.DevicePhone},
	{"okhttp/", "okhttp", admeter.OSUnknown, admeter.DeviceUnknown},
	{"curl/", "curl", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Wget/", "Wget", admeter.OSUnknown, admeter.DeviceUnknown},
	{"python-requests/", "python-requests", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Python-urllib/", "Python-urllib", admeter.OSUnknown, admeter.DeviceUnknown},
	{"python-httpx/", "python-httpx", admeter.OSUnknown, admeter.DeviceUnknown},
	{"aiohttp/", "aiohttp", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Python/", "Python", admeter.OSUnknown, admeter.DeviceUnknown}, // "Python/3.11 aiohttp/3.9.1"
	{"Go-http-client/", "Go-http-client", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Java/", "Java", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Apache-HttpClient/", "Apache-HttpClient", admeter.OSUnknown, admeter.DeviceUnknown},
	{"axios/", "axios", admeter.OSUnknown, admeter.DeviceUnknown},
	{"node-fetch", "node-fetch", admeter.OSUnknown, admeter.DeviceUnknown},
	{"undici", "undici", admeter.OSUnknown, admeter.DeviceUnknown},
	{"PostmanRuntime/", "Postman", admeter.OSUnknown, admeter.DeviceUnknown},
	{"libwww-perl/", "libwww-perl", admeter.OSUnknown, admeter.DeviceUnknown},
	{"Dart/", "Dart", admeter.OSUnknown, admeter.DeviceUnknown},
	{"HTTPie/", "HTTPie", admeter.OSUnknown, admeter.DeviceUnknown},
}

// cfNetwork is the name for iOS apps' default user agent,
// "MyApp/1.2 CFNetwork/1410.0.3 Darwin/22.6.0".
const cfNetwork = "CFNetwork"

// clientNames are the Browser values NonBrowser reports.
var clientNames = func() map[string]struct{} {
	m := map[string]struct{}{cfNetwork: {}}
	for _, c := range clients {
		m[c.name] = struct{}{}
	}
	return m
}()

// parseClient recognises HTTP clients that are not browsers.
func parseClient(ua string) (Info, bool) {
	for _, c := range clients {
		if strings.HasPrefix(ua, c.prefix) {
			info := Info{OS: c.os, Browser: c.name, DeviceType: c.device}
			if c.os == admeter.OSAndroid {
				info.OSVersion = versionAfter(ua, "Android ")
			}
			return info, true
		}
	}
	if strings.Contains(ua, "CFNetwork/") && !strings.HasPrefix(ua, "Mozilla/") {
		// Nearly all CFNetwork traffic is iOS apps; macOS apps send the same
		// format and are counted as iOS.
		return Info{
			OS:         admeter.OSIOS,
			OSVersion:  iosFromDarwin(versionAfter(ua, "Darwin/")),
			Browser:    cfNetwork,
			DeviceType: admeter.DevicePhone,
		}, true
	}
	return Info{}, false
}

// iosFromDarwin returns the iOS major version for a Darwin kernel version:
// Darwin 10–24 are iOS 4–18, and Darwin 25 is iOS 26 (Apple's 2025 jump to
// year numbers). It returns "" when darwin is not such a version.
func iosFromDarwin(darwin string) string {
	major, _, _ := strings.Cut(darwin, ".")
	d, err := strconv.Atoi(major)
	switch {
	case err != nil || d < 10 || d > 99:
		return ""
	case d >= 25:
		return strconv.Itoa(d + 1)
	default:
		return strconv.Itoa(d - 6)
	}
}

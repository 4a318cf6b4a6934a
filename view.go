package admeter

import "time"

// ViewResult is the viewability state an event reports, after the MMA
// China SDK's result codes (Miaozhen vx).
type ViewResult uint8

// Viewability states. The zero value is "not reported".
const (
	ViewNone ViewResult = iota
	// ViewStarted is vx=0 on an impression: viewability monitoring of the
	// impression began.
	ViewStarted
	// ViewViewable is vx=1: the ad was viewable by the MMA rule (at least
	// 50 % of its pixels in view for at least 1 continuous second, 2 for
	// video; or the thresholds in ViewArea and ViewSeconds).
	ViewViewable
	// ViewNotViewable is vx=4: measured, and never viewable.
	ViewNotViewable
	// ViewUnmeasurable is vx=2: the measurement failed.
	ViewUnmeasurable
	numViewResults
)

var viewNames = [...]string{"", "started", "viewable", "not_viewable", "unmeasurable"}

// String returns the lowercase name used in APIs ("" for ViewNone).
func (v ViewResult) String() string {
	if v < numViewResults {
		return viewNames[v]
	}
	return "unknown"
}

func (v ViewResult) valid() bool { return v < numViewResults }

// Measured reports whether v is a measurement's outcome: viewable or not
// viewable.
func (v ViewResult) Measured() bool { return v == ViewViewable || v == ViewNotViewable }

// ParseVX returns the ViewResult of a Miaozhen vx code: 0 started, 1
// viewable, 2 unmeasurable, 4 not viewable. ok is false for anything else.
func ParseVX(code string) (v ViewResult, ok bool) {
	switch code {
	case "0":
		return ViewStarted, true
	case "1":
		return ViewViewable, true
	case "2":
		return ViewUnmeasurable, true
	case "4":
		return ViewNotViewable, true
	}
	return ViewNone, false
}

// VideoPlay is how a video ad started playing (Miaozhen vg).
type VideoPlay uint8

// Play types. The zero value is "not reported".
const (
	PlayNone    VideoPlay = iota
	PlayUnknown           // vg=0
	PlayAuto              // vg=1
	PlayManual            // vg=2
	numPlays
)

func (p VideoPlay) valid() bool { return p < numPlays }

var playNames = [...]string{"", "unknown", "auto", "manual"}

// String returns the lowercase name used in APIs ("" for PlayNone).
func (p VideoPlay) String() string {
	if p < numPlays {
		return playNames[p]
	}
	return "unknown"
}

// VideoProgress is the point of a video play a ping reports (Miaozhen vc).
type VideoProgress uint8

// Progress points. The zero value is "not reported".
const (
	ProgressNone VideoProgress = iota
	ProgressStart
	Progress25
	Progress50
	Progress75
	Progress100
	numProgress
)

func (p VideoProgress) valid() bool { return p < numProgress }

// Percent returns the point as a percentage (0 for the start and for
// ProgressNone).
func (p VideoProgress) Percent() int {
	if p <= ProgressStart || p >= numProgress {
		return 0
	}
	return 25 * int(p-ProgressStart)
}

// Quartile returns the quartile bit the point completes (0 for the start
// and ProgressNone).
func (p VideoProgress) Quartile() Quartiles {
	if p <= ProgressStart || p >= numProgress {
		return 0
	}
	return 1 << (p - Progress25)
}

// ParseVC returns the VideoProgress of a Miaozhen vc value: 0 (start), 25,
// 50, 75 or 100.
func ParseVC(s string) (p VideoProgress, ok bool) {
	switch s {
	case "0":
		return ProgressStart, true
	case "25":
		return Progress25, true
	case "50":
		return Progress50, true
	case "75":
		return Progress75, true
	case "100":
		return Progress100, true
	}
	return ProgressNone, false
}

// Quartiles is a set of video quartiles reached: the Miaozhen vj mask.
type Quartiles uint8

// Quartile bits.
const (
	Quartile25 Quartiles = 1 << iota
	Quartile50
	Quartile75
	Quartile100
	QuartileAll = Quartile25 | Quartile50 | Quartile75 | Quartile100
)

// ParseVJ returns the Quartiles of a Miaozhen vj mask: four characters,
// each 0 or 1, for 25, 50, 75 and 100 %.
func ParseVJ(s string) (q Quartiles, ok bool) {
	if len(s) != 4 {
		return 0, false
	}
	for i := range 4 {
		switch s[i] {
		case '1':
			q |= 1 << i
		case '0':
		default:
			return 0, false
		}
	}
	return q, true
}

// MaxVideoDuration bounds Event.VideoDuration: a reported length beyond it
// is not a video ad's.
const MaxVideoDuration = 2 * time.Hour

// The MMA China viewability standard: at least ViewableArea percent of the
// ad's pixels in view for at least ViewableTime (display) or
// ViewableVideoTime (video) continuously.
const (
	ViewableArea      = 50
	ViewableTime      = time.Second
	ViewableVideoTime = 2 * time.Second
)

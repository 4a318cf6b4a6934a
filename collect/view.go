package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

// viewFromParams reads the viewability and video letters of a pixel into h,
// which fillFromParams filled: a result ping (vx 1, 2 or 4) becomes a
// KindViewability event, a progress ping (vc) a KindVideo event, and an
// impression with vx=0 starts a measurement (ViewStarted). Clicks carry no
// such letters: they are ignored there. It returns the rejection reason of a
// value outside its range, or "". An absent value (empty, or an unreplaced
// macro) is no value.
func viewFromParams(h *rawHit, p *macro.Params) string {
	if h.kind == admeter.KindClick {
		return ""
	}
	view, okX := admeter.ParseVX(p.VX)
	strong, okK := macro.ParseInteraction(p.VK)
	area, okH := macro.ParseViewArea(p.VH)
	secs, okI := macro.ParseViewSeconds(p.VI)
	if p.VX != "" && !okX || !okK || !okH || !okI {
		return reasonBadViewability
	}
	progress, okC := admeter.ParseVC(p.VC)
	quartiles, okJ := admeter.ParseVJ(p.VJ)
	duration, okB := macro.ParseVideoDuration(p.VB)
	play, okG := macro.ParseVideoPlay(p.VG)
	if p.VC != "" && !okC || p.VJ != "" && !okJ || !okB || !okG {
		return reasonBadVideo
	}
	h.viewArea, h.viewSeconds = area, secs
	h.videoDuration, h.videoPlay, h.videoQuartiles = duration, play, quartiles
	setViewKind(h, view, progress, strong)
	if h.kind == admeter.KindViewability && h.vf == "" {
		// A result names the impression it measured; without vf it
		// measures nothing a report can count.
		return reasonBadViewability
	}
	return ""
}

// setViewKind makes h a viewability result when view is one, else a video
// progress ping when progress is set; an impression with ViewStarted keeps
// its kind and records the start.
func setViewKind(h *rawHit, view admeter.ViewResult, progress admeter.VideoProgress, strong bool) {
	switch {
	case view != admeter.ViewNone && view != admeter.ViewStarted:
		h.kind, h.view = admeter.KindViewability, view
		if strong {
			// The user clicked the ad while it was monitored (vk=1): the
			// MMA rule counts it viewable whatever the geometry said.
			h.view = admeter.ViewViewable
		}
	case progress != admeter.ProgressNone:
		h.kind, h.videoProgress = admeter.KindVideo, progress
	case view == admeter.ViewStarted && h.kind == admeter.KindImpression:
		h.view = admeter.ViewStarted
	}
}

// batchView holds the viewability and video fields of a batch event, in
// their readable forms (see docs/api.md).
type batchView struct {
	View           string          `json:"view"` // started, viewable, not_viewable, unmeasurable
	ViewArea       flexString      `json:"view_area"`
	ViewSeconds    flexString      `json:"view_seconds"`
	VideoDuration  flexString      `json:"video_duration"` // seconds, decimals allowed
	VideoPlay      flexString      `json:"video_play"`     // unknown, auto, manual, or 0–2
	VideoProgress  flexString      `json:"video_progress"` // start, 25, 50, 75, 100 (0 is start)
	VideoQuartiles *batchQuartiles `json:"video_quartiles"`
}

// batchQuartiles accepts the quartiles reached as the Miaozhen mask
// ("1100") or as a list of percentages ([25, 50]).
type batchQuartiles admeter.Quartiles

func (q *batchQuartiles) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, ok := admeter.ParseVJ(s)
		if !ok {
			return fmt.Errorf("video_quartiles %q: use a mask of four 0/1 characters for 25, 50, 75 and 100 %% (\"1100\") or a list such as [25, 50]", s)
		}
		*q = batchQuartiles(v)
		return nil
	}
	var list []int
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("video_quartiles: use a mask such as \"1100\" or a list such as [25, 50]")
	}
	var v admeter.Quartiles
	for _, pct := range list {
		if pct != 25 && pct != 50 && pct != 75 && pct != 100 {
			return fmt.Errorf("video_quartiles: %d is not a quartile; use 25, 50, 75 or 100", pct)
		}
		v |= admeter.Quartile25 << (pct/25 - 1)
	}
	*q = batchQuartiles(v)
	return nil
}

// empty reports whether no field is set.
func (v *batchView) empty() bool {
	return *v == batchView{}
}

// apply checks the fields and records them in h, whose kind the event's
// type already set. It returns the metric reason and the sender's message
// of a bad value.
func (v *batchView) apply(h *rawHit) (string, error) {
	if h.kind == admeter.KindClick {
		if !v.empty() {
			return reasonBadEvent, errors.New("a click carries no viewability or video fields")
		}
		return "", nil
	}
	view := admeter.ViewNone
	switch v.View {
	case "":
	case "started":
		view = admeter.ViewStarted
	case "viewable":
		view = admeter.ViewViewable
	case "not_viewable":
		view = admeter.ViewNotViewable
	case "unmeasurable":
		view = admeter.ViewUnmeasurable
	default:
		return reasonBadViewability, fmt.Errorf("view must be started, viewable, not_viewable or unmeasurable, not %q", v.View)
	}
	area, ok := macro.ParseViewArea(string(v.ViewArea))
	if !ok {
		return reasonBadViewability, fmt.Errorf("view_area must be a whole percentage from 1 to 100, not %q", v.ViewArea)
	}
	secs, ok := macro.ParseViewSeconds(string(v.ViewSeconds))
	if !ok {
		return reasonBadViewability, fmt.Errorf("view_seconds must be whole seconds from 1 to %d, not %q", macro.MaxViewSeconds, v.ViewSeconds)
	}
	duration, ok := macro.ParseVideoDuration(string(v.VideoDuration))
	if !ok {
		return reasonBadVideo, fmt.Errorf("video_duration must be seconds (decimals allowed) up to %.0f, not %q", admeter.MaxVideoDuration.Seconds(), v.VideoDuration)
	}
	play, ok := parseBatchPlay(string(v.VideoPlay))
	if !ok {
		return reasonBadVideo, fmt.Errorf("video_play must be unknown, auto or manual (or 0–2), not %q", v.VideoPlay)
	}
	progress := admeter.ProgressNone
	if s := string(v.VideoProgress); s != "" {
		if s == "start" {
			s = "0"
		}
		if progress, ok = admeter.ParseVC(s); !ok {
			return reasonBadVideo, fmt.Errorf("video_progress must be start, 25, 50, 75 or 100, not %q", v.VideoProgress)
		}
	}
	switch h.kind {
	case admeter.KindViewability:
		if view == admeter.ViewNone || view == admeter.ViewStarted {
			return reasonBadViewability, errors.New("a viewability event needs its result: view viewable, not_viewable or unmeasurable")
		}
		if progress != admeter.ProgressNone {
			return reasonBadEvent, errors.New("video_progress belongs in a video event")
		}
	case admeter.KindVideo:
		if progress == admeter.ProgressNone {
			return reasonBadVideo, errors.New("a video event needs video_progress: start, 25, 50, 75 or 100")
		}
		if view != admeter.ViewNone {
			return reasonBadEvent, errors.New("view belongs in a viewability or impression event")
		}
	default:
		if view != admeter.ViewNone && view != admeter.ViewStarted {
			return reasonBadEvent, fmt.Errorf("view %q is a result: send it as type viewability with the impression's impression_id", v.View)
		}
		if progress != admeter.ProgressNone {
			return reasonBadEvent, errors.New("video_progress belongs in a video event (type video)")
		}
	}
	h.viewArea, h.viewSeconds = area, secs
	h.videoDuration, h.videoPlay = duration, play
	if v.VideoQuartiles != nil {
		h.videoQuartiles = admeter.Quartiles(*v.VideoQuartiles)
	}
	setViewKind(h, view, progress, false)
	return "", nil
}

// parseBatchPlay reads video_play: a name or the vg code.
func parseBatchPlay(s string) (admeter.VideoPlay, bool) {
	switch strings.ToLower(s) {
	case "unknown":
		return admeter.PlayUnknown, true
	case "auto":
		return admeter.PlayAuto, true
	case "manual":
		return admeter.PlayManual, true
	}
	return macro.ParseVideoPlay(s)
}

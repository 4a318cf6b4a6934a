// Package viewtag serves admeter's first-party viewability tag, v.js: a
// dependency-free script (ES2017) that a page includes next to an ad. It
// sends the impression with a fresh impression id (vf) and vx=0, measures
// the ad with IntersectionObserver by the MMA China rule (at least 50 % of
// its pixels in view for at least 1 continuous second, 2 for video, while
// the page is visible; data-vh and data-vi override the thresholds), and
// sends the result with the same vf: vx=1 as soon as the ad is viewable;
// vx=4 when the page is hidden or unloaded first (by navigator.sendBeacon)
// or after 120 s; vx=2 when the browser cannot measure. A page hidden and
// shown again keeps being measured, so a "not viewable" result may be
// followed by a "viewable" one; reports count the impression viewable.
// docs/api.md documents the attributes.
package viewtag

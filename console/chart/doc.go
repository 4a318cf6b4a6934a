// Package chart draws the web console's charts as server-side SVG: a line
// chart for impressions and clicks over time and for the cumulative reach
// curve, horizontal bars for top placements, media and provinces, a
// histogram for the frequency distribution and a donut for OS and device
// splits.
//
// Each function takes an options struct and returns a template.HTML holding
// one <svg> element that can be put straight into an html/template page or
// served on its own as image/svg+xml. Every label, name and caption is
// sanitised (control characters and invalid UTF-8 become U+FFFD) and then
// escaped with html.EscapeString before it is written; colours are used only
// if they look like "#rgb", "#rrggbb" or a plain colour name, and numbers are
// written by strconv, so the output is well-formed XML whatever the input.
//
// The charts work on a closed network: no external fonts, scripts or style
// sheets, and no style attributes or <style> elements (a strict
// Content-Security-Policy does not block them). Text uses a font stack that
// finds a CJK font on any desktop (PingFang SC, Hiragino Sans GB, Microsoft
// YaHei, Noto Sans CJK SC, Source Han Sans SC, then sans-serif). Colours come
// from the colour-blind-friendly Okabe–Ito palette, and series on a right
// axis are dashed so they are told apart without colour.
//
// Every chart has a fixed viewBox with width="100%" so it scales with its
// container, role="img", and a <title> and <desc> referenced by
// aria-labelledby; when Frame.Desc is empty a short text summary of the data
// is written instead. With nothing to draw a chart is a dashed box of the
// same size holding Frame.Empty ("暂无数据" by default). Non-finite inputs
// never reach the output: NaN and ±Inf points are gaps in a line and zero
// elsewhere. The output depends only on the options, so it can be compared
// with golden files.
//
// Numbers follow Frame.Locale: "zh-CN" (the default) writes 12,345 below ten
// thousand and then 1.2万 and 1.2亿; "en" writes 12,345 below a million and
// then 1.2M and 1.2B. Axis ticks are round steps of 1, 2 or 5 × 10^k and one
// axis shares one unit (0, 0.5万, 1.0万, 1.5万).
package chart

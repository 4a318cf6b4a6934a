// Package console is admeter's web console: server-rendered pages under
// /console/ for the people who run campaigns — sign-in, campaigns and their
// placements, monitoring codes ready to paste into each media platform, a
// dashboard per campaign, report exports — in Chinese (the default) and
// English.
//
// Everything it serves is embedded in the binary (templates, CSS, one small
// script for copy buttons): no CDN, no external font, so it works on a
// closed network. Pages are plain HTML forms; they work without JavaScript
// except the copy buttons, which fall back to selectable text.
//
// The console is a front door like the API, and shares its rules: it signs
// users in through api.Server.SignIn (throttling, lockout, second factor,
// audit), reads the same session cookie, checks each form's CSRF token, and
// checks the user's role before every action.
package console

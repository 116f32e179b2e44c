// Package status is maskstream's live status page: routes with their
// state, rates, totals, dead letters by reason and lag per partition, and
// the rulesets with their serving serial and the result of their last
// reload (DESIGN §1, §7).
//
// Handler serves four paths, relative to where it is mounted:
//
//	/               the page: static HTML, no inline script or style
//	/status.json    the Snapshot the page polls every 2 seconds
//	/static/app.js  the page's script (vanilla JavaScript, no build step)
//	/static/app.css the page's style (system fonts, light and dark)
//
// Everything is embedded in the binary: no CDN, no external font, no
// request leaves the page's origin. The HTTP server should send
// ContentSecurityPolicy with the page.
//
// Rates come from the Source: the processor samples each route's counters
// every 2 seconds and reports records per second. The page does not
// derive rates from consecutive polls, so a page opened a second ago
// shows the same figures as one open for an hour, and two pages agree.
//
// The page never shows a record value: a Snapshot has names, counts,
// times and ruleset error positions only, and the page builds its DOM
// with textContent, so nothing the server sends becomes markup.
package status

package optouthttp

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/admeter/admeter"
)

//go:embed page.html
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// pageCSP lets the page use its inline style and post its forms to itself,
// and nothing else: no script, no frame, no outside resource.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// typeOption is one entry of the page's identifier type select.
type typeOption struct {
	Value, Label string
	Selected     bool
}

// pageData is what page.html renders.
type pageData struct {
	T             *texts
	Lang          string // zh or en, for the forms' hidden field
	OtherHref     string
	Action        string
	Done, Problem string
	OptedOut      bool // this browser carries the opt-out cookie
	GPCSent       bool // this request carries Sec-GPC: 1
	HonorGPC      bool
	BrowserCookie string
	Types         []typeOption
}

// pageHeaders sets the page's security headers.
func pageHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Vary", "Accept-Language, Cookie, Sec-GPC")
}

// servePage answers GET and POST /optout.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		lang, _ := pickLang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
		t := textsFor(lang)
		var done string
		switch r.URL.Query().Get("done") {
		case kindBrowser:
			done = t.DoneBrowser
		case kindDevice:
			name := "?"
			if typ, prob := parseIDType(r.URL.Query().Get("id_type")); prob == nil {
				name = typeInfos[typ].name
			}
			done = fmt.Sprintf(t.DoneDevice, name)
		}
		h.renderPage(w, r, http.StatusOK, lang, done, nil, admeter.IDNone)
	case http.MethodPost:
		h.pagePost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "405 method not allowed: use GET to see the opt-out page", http.StatusMethodNotAllowed)
	}
}

// pagePost handles the page's two forms and redirects back to the page
// (post/redirect/get), or shows the page again with the problem. The
// identifier is never put back into the form or the URL.
func (h *Handler) pagePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	parseErr := r.ParseForm()
	lang, _ := pickLang(r.PostForm.Get("lang"), r.Header.Get("Accept-Language"))
	action := r.PostForm.Get("action")
	kind := kindDevice
	if action == kindBrowser {
		kind = kindBrowser
	}
	selected, _ := parseIDType(r.PostForm.Get("id_type"))

	target, prob := h.pageAction(w, r, parseErr, action)
	h.m.count(chanPage, kind, resultOf(prob))
	if prob != nil {
		h.renderPage(w, r, statusOf(prob.prob), lang, "", prob, selected)
		return
	}
	target.Set("lang", lang)
	http.Redirect(w, r, PagePath+"?"+target.Encode(), http.StatusSeeOther)
}

// pageAction carries out a page form and returns the query of the page to
// redirect to.
func (h *Handler) pageAction(w http.ResponseWriter, r *http.Request, parseErr error, action string) (url.Values, *inputError) {
	if parseErr != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(parseErr, &tooLarge) {
			return nil, &inputError{prob: probTooLarge}
		}
		return nil, &inputError{prob: probBody}
	}
	if err := h.csrf.Check(r); err != nil {
		return nil, &inputError{prob: probCrossSite}
	}
	if prob := h.allow(w, r); prob != nil {
		return nil, prob
	}
	switch action {
	case kindBrowser:
		h.setOptOutCookies(w, r)
		return url.Values{"done": {kindBrowser}}, nil
	case kindDevice:
		d, prob := parseDevice(h.ps, r.PostForm.Get("id_type"), r.PostForm.Get("id"), r.PostForm.Get("form"))
		if prob != nil {
			return nil, prob
		}
		if _, err := h.optOut(r.Context(), d); err != nil {
			return nil, internalError
		}
		return url.Values{"done": {kindDevice}, "id_type": {d.typ.String()}}, nil
	}
	return nil, &inputError{prob: probAction}
}

// renderPage writes the page with status. selected is the identifier type to
// preselect (IDNone: the first).
func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, status int, lang, done string, prob *inputError, selected admeter.IDType) {
	t := textsFor(lang)
	d := pageData{
		T:             t,
		Lang:          lang,
		OtherHref:     PagePath + "?lang=" + t.OtherCode,
		Action:        PagePath,
		Done:          done,
		OptedOut:      h.hasOptOutCookie(r),
		GPCSent:       r.Header.Get("Sec-GPC") == "1",
		HonorGPC:      h.cfg.HonorGPC,
		BrowserCookie: fmt.Sprintf(t.BrowserCookie, h.cfg.CookieName, h.cfg.IDCookieName),
	}
	if prob != nil {
		d.Problem = t.problemText(prob)
	}
	for _, typ := range types {
		label, ok := t.TypeLabels[typ]
		if !ok || !typeInfos[typ].pageOK {
			continue
		}
		d.Types = append(d.Types, typeOption{Value: typ.String(), Label: label, Selected: typ == selected})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		h.logger.Error("render opt-out page", "err", err)
		http.Error(w, "500 internal error: the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", t.HTMLLang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/auth"
	"github.com/admeter/admeter/simulate"
	"github.com/admeter/admeter/simulate/socialsim"
)

// demoState is what --demo keeps in <data>/demo.json. The demo tenant's
// token is kept apart in <data>/demo.token (mode 0600), for
// "admeter report --token-file".
type demoState struct {
	Tenant   admeter.TenantID   `json:"tenant"`
	Campaign admeter.CampaignID `json:"campaign"`
	Token    string             `json:"-"`
}

// Demo traffic: a backfill of the last few days at start, then a gentle live
// stream, from one device population so users recur across days.
const (
	demoDevices       = 3000
	demoBackfillDays  = 3
	demoBackfill      = 6000 // impressions over the backfill days
	demoRate          = 3.0  // live impressions per second on average
	demoWindow        = 10 * time.Second
	demoSeed          = 20261128
	demoViewability   = 0.6 // share of SDK impressions with a viewability result
	demoVideo         = 0.5 // share of SDK placements that show video (the first one)
	demoConversions   = 0.1 // share of devices that convert
	demoStateFileName = "demo.json"
	demoTokenFileName = "demo.token"
)

// ensureDemo returns the demo tenant and campaign, creating them on first
// start.
func (m *Main) ensureDemo(ctx context.Context) (*demoState, *admeter.Campaign, error) {
	path := filepath.Join(m.Config.DataDir, demoStateFileName)
	var st demoState
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w (delete it to start the demo afresh)", path, err)
		}
		tok, err := os.ReadFile(filepath.Join(m.Config.DataDir, demoTokenFileName))
		if err != nil {
			return nil, nil, fmt.Errorf("read demo token: %w (delete %s to start the demo afresh)", err, path)
		}
		st.Token = string(bytes.TrimSpace(tok))
		c, err := m.meta.Campaign(ctx, st.Tenant, st.Campaign)
		if err != nil {
			return nil, nil, fmt.Errorf("find demo campaign %s: %w (delete %s to start the demo afresh)", st.Campaign, err, path)
		}
		if err := m.ensureDemoUser(ctx, st.Tenant); err != nil {
			return nil, nil, err
		}
		return &st, c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}

	t := &admeter.Tenant{Name: "演示品牌 Demo Brand", Kind: admeter.TenantAdvertiser}
	st.Token = api.NewToken(api.TenantTokenPrefix)
	if err := m.meta.CreateTenant(ctx, t, api.HashToken(st.Token)); err != nil {
		return nil, nil, fmt.Errorf("create demo tenant: %w", err)
	}
	c := &admeter.Campaign{
		Tenant: t.ID, Name: "演示活动 双十二预热 Demo campaign", LandingURL: "https://shop.example.com/sale",
		AllowedHosts: []string{"m.shop.example.com"}, Timezone: admeter.DefaultTimezone,
		// Clicks carry a click id to the shop, which reports orders with it.
		Attribution: admeter.Attribution{ClickIDParam: "admeter_click_id"},
		Placements: []admeter.Placement{
			// IAB content categories, from which audience insight infers
			// interests: entertainment and pop culture for the video app,
			// business and technology for the news app.
			// Prices, so that the reach report shows costs and the
			// placement plan has budget to move.
			{Name: "开屏 Splash", Media: "示例视频 Demo Video", Categories: []string{"JLBCU7", "432"},
				Price: &admeter.Price{Model: admeter.CPM, Amount: 60 * admeter.MicroCNY}},
			{Name: "信息流 Feed", Media: "示例资讯 Demo News", Categories: []string{"52", "596"},
				Price: &admeter.Price{Model: admeter.CPC, Amount: 1_200_000}},
			{Name: "贴片 Pre-roll", Media: "示例视频 Demo Video", Categories: []string{"JLBCU7", "483"},
				Price: &admeter.Price{Model: admeter.CPM, Amount: 45 * admeter.MicroCNY}},
		},
	}
	if err := m.meta.CreateCampaign(ctx, c); err != nil {
		return nil, nil, fmt.Errorf("create demo campaign: %w", err)
	}
	st.Tenant, st.Campaign = t.ID, c.ID
	if err := os.WriteFile(filepath.Join(m.Config.DataDir, demoTokenFileName), []byte(st.Token+"\n"), 0o600); err != nil {
		return nil, nil, fmt.Errorf("write demo token: %w", err)
	}
	if err := m.ensureDemoUser(ctx, t.ID); err != nil {
		return nil, nil, err
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &st, c, nil
}

// demoEmail is the demo console user; its random password is kept in
// <data>/demo.password (0600).
const (
	demoEmail            = "demo@admeter.example"
	demoPasswordFileName = "demo.password"
)

// ensureDemoUser gives the demo tenant an owner who can sign in to the
// console, once.
func (m *Main) ensureDemoUser(ctx context.Context, tenant admeter.TenantID) error {
	path := filepath.Join(m.Config.DataDir, demoPasswordFileName)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	password := api.NewToken("Demo-")[:28]
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := &admeter.User{Tenant: tenant, Email: demoEmail, Name: "演示用户 Demo", Role: admeter.RoleOwner}
	if err := m.meta.CreateUser(ctx, u, hash); err != nil && admeter.ErrorCode(err) != admeter.ECONFLICT {
		return fmt.Errorf("create demo console user: %w", err)
	}
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write demo password: %w", err)
	}
	return nil
}

// runDemo sends simulated traffic for the demo campaign to this server until
// ctx is done: first the last few days, then a live trickle. The monitoring
// URLs go to pixelBase, everything else to base.
func (m *Main) runDemo(ctx context.Context, base, pixelBase, public, token string, c *admeter.Campaign, logger *slog.Logger) {
	rule := c.Attribution.Rule("")
	sc := simulate.Campaign{ID: string(c.ID), Timezone: c.Timezone, LandingURL: c.LandingURL,
		Attribution: &simulate.Attribution{ClickWindowDays: rule.ClickWindowDays, ViewWindowDays: rule.ViewWindowDays, ClickIDParam: c.Attribution.ClickIDParam}}
	for _, p := range c.Placements {
		sc.Placements = append(sc.Placements, simulate.Placement{
			ID: string(p.ID), Media: p.Media,
			ImpressionURL: api.ImpressionURL(public, c.ID, p.ID), ClickURL: api.ClickURL(public, c.ID, p.ID, c.LandingURL),
		})
	}
	now := time.Now()
	gen := func(span time.Duration, impressions int) (*simulate.Generator, error) {
		cfg := simulate.DefaultConfig()
		cfg.Seed, cfg.Devices, cfg.Impressions, cfg.MeanFrequency = demoSeed, demoDevices, impressions, 0
		cfg.Now, cfg.Start, cfg.End = now, now.Add(-span), now
		cfg.Campaigns = []simulate.Campaign{sc}
		cfg.IVT = simulate.UniformIVT(0.03)
		// Viewability results, video plays and conversions, so that every
		// report of the console has numbers.
		cfg.Viewability, cfg.Video, cfg.Conversions = demoViewability, demoVideo, demoConversions
		return simulate.NewGenerator(cfg)
	}
	backfill, err := gen(demoBackfillDays*24*time.Hour, demoBackfill)
	if err != nil {
		logger.Error("demo: cannot generate traffic", "err", err)
		return
	}
	live, err := gen(24*time.Hour, int(demoRate*86400))
	if err != nil {
		logger.Error("demo: cannot generate traffic", "err", err)
		return
	}
	// Social insight: settings and a month of partner feeds, uploaded
	// alongside the traffic.
	var social sync.WaitGroup
	defer social.Wait()
	social.Go(func() { seedDemoSocial(ctx, base, token, logger) })

	scfg := simulate.DefaultSenderConfig()
	scfg.Concurrency = 2
	scfg.Token, scfg.ConsentRef = token, "demo-consent"
	scfg.PixelTarget = pixelBase
	sender, err := simulate.NewSender(base, scfg, slog.New(slog.DiscardHandler))
	if err != nil {
		logger.Error("demo: cannot send traffic", "err", err)
		return
	}
	defer sender.Close()

	if plan, err := backfill.Plan(now.Add(-demoBackfillDays*24*time.Hour), now.Add(-demoWindow), now); err == nil {
		if st, err := sender.Send(ctx, plan); err == nil {
			logger.Info("demo: sent the last days' traffic", "events", st.Events, "ok", st.OK)
		}
	}
	t := time.NewTicker(demoWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case tick := <-t.C:
			plan, err := live.Next(tick, demoWindow)
			if err != nil {
				logger.Error("demo: generate traffic", "err", err)
				continue
			}
			if _, err := sender.Send(ctx, plan); err != nil && ctx.Err() == nil {
				logger.Warn("demo: send traffic", "err", err)
			}
		}
	}
}

// Demo social insight: the demo brand against two competitors, with its
// official account, over the last demoSocialDays days; brand mentions
// double from the campaign's backfill on.
const (
	demoSocialDays  = 30
	demoSocialBatch = 2000 // records per upload
)

// demoSocialConfig returns the social feed of the demo, up to now.
func demoSocialConfig(now time.Time) socialsim.Config {
	today := now.In(shanghai())
	cfg := socialsim.DefaultConfig()
	cfg.Seed, cfg.DatedDays, cfg.Now = demoSeed, true, now
	cfg.From, cfg.Days = today.AddDate(0, 0, 1-demoSocialDays).Format(time.DateOnly), demoSocialDays
	cfg.CampaignFrom, cfg.CampaignTo = today.AddDate(0, 0, -demoBackfillDays).Format(time.DateOnly), today.Format(time.DateOnly)
	cfg.Brand.Name, cfg.Brand.Terms, cfg.Brand.Exclusions = "演示品牌", []string{"演示品牌", "Demo Brand"}, []string{"演示品牌大厦"}
	cfg.Official = admeter.SocialAccount{Source: "weibo", Handle: "演示品牌官方", Name: "演示品牌官方微博"}
	return cfg
}

// seedDemoSocial gives the demo tenant social settings (unless it has
// some) and uploads the demo's social feed through the API, once per
// start: its records have stable ids, so a restart stores only the days
// that are new. It waits for the server's Chinese dictionary first, so
// that no upload waits for it against the server's write timeout.
func seedDemoSocial(ctx context.Context, base, token string, logger *slog.Logger) {
	client := &http.Client{Timeout: 2 * time.Minute}
	call := func(method, path, contentType string, body io.Reader, out any) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	cfg := demoSocialConfig(time.Now())
	f, err := socialsim.Generate(cfg)
	if err != nil {
		logger.Error("demo: cannot generate social feeds", "err", err)
		return
	}
	var set admeter.SocialSettings
	if err := call("GET", "/api/v1/social/settings", "", nil, &set); err != nil {
		logger.Warn("demo: read social settings", "err", err)
		return
	}
	if len(set.Brands) == 0 {
		set = cfg.Settings()
		b, _ := json.Marshal(&set)
		if err := call("PUT", "/api/v1/social/settings", "application/json", bytes.NewReader(b), nil); err != nil {
			logger.Warn("demo: save social settings", "err", err)
			return
		}
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		var metrics bytes.Buffer
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(&metrics, resp.Body)
			resp.Body.Close()
		}
		if bytes.Contains(metrics.Bytes(), []byte("\nadmeter_social_text_ready 1\n")) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	var stored, dups int
	for i := 0; i < len(f.Records); i += demoSocialBatch {
		var body bytes.Buffer
		if err := socialsim.WriteNDJSON(&body, f.Records[i:min(i+demoSocialBatch, len(f.Records))]); err != nil {
			logger.Error("demo: write social feed", "err", err)
			return
		}
		var res struct{ Stored, Duplicates int }
		if err := call("POST", "/api/v1/social/posts", "application/x-ndjson", &body, &res); err != nil {
			if ctx.Err() == nil {
				logger.Warn("demo: upload social feed", "err", err)
			}
			return
		}
		stored, dups = stored+res.Stored, dups+res.Duplicates
	}
	logger.Info("demo: uploaded social feeds", "stored", stored, "duplicates", dups)
}

// printDemoBanner tells a newcomer where to look.
func printDemoBanner(w io.Writer, public, collector, dataDir string, st *demoState) {
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	from := time.Now().In(shanghai()).AddDate(0, 0, -demoBackfillDays).Format(time.DateOnly)
	socialFrom := time.Now().In(shanghai()).AddDate(0, 0, 1-demoSocialDays).Format(time.DateOnly)
	tokenFile := filepath.Join(dataDir, demoTokenFileName)
	fmt.Fprintf(w, `
  admeter demo is running: simulated traffic for campaign %[1]s is arriving now.
  演示模式已启动:活动 %[1]s 正在接收模拟流量。

  Console / 控制台: %[2]s/console/  (email %[6]s, password in %[7]s)
  Monitoring URLs / 监测链接: %[9]s/x/… and %[9]s/r/…

  Report by day / 按天报表:
    go run ./cmd/admeter report --server %[2]s --token-file %[3]s --campaign %[1]s --from %[4]s --to %[5]s --by day
  Reach and frequency / 触达与频次:
    go run ./cmd/admeter report --server %[2]s --token-file %[3]s --campaign %[1]s --from %[4]s --to %[5]s --kind frequency
  Conversions and attribution / 转化与归因:
    go run ./cmd/admeter report --server %[2]s --token-file %[3]s --campaign %[1]s --from %[4]s --to %[5]s --kind conversions --by type
  Or with curl / 或用 curl:
    curl -H "Authorization: Bearer $(cat %[3]s)" '%[2]s/api/v1/campaigns/%[1]s/report?from=%[4]s&to=%[5]s&by=placement'
  Audience insight (aggregates only) / 人群洞察(仅聚合):
    curl -H "Authorization: Bearer $(cat %[3]s)" '%[2]s/api/v1/campaigns/%[1]s/audience?from=%[4]s&to=%[5]s'
  Social insight (mentions, share of voice, lift; aggregates only) / 社会化洞察(声量、声量份额、提升;仅聚合):
    go run ./cmd/admeter social report --server %[2]s --token-file %[3]s --campaign %[1]s --from %[8]s --to %[5]s
    curl -H "Authorization: Bearer $(cat %[3]s)" '%[2]s/api/v1/social/report?campaign=%[1]s&from=%[8]s&to=%[5]s'
  Pipeline metrics / 指标: %[2]s/metrics

`, st.Campaign, public, tokenFile, from, day, demoEmail, filepath.Join(dataDir, demoPasswordFileName), socialFrom, collector)
}

func shanghai() *time.Location {
	loc, err := time.LoadLocation(admeter.DefaultTimezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

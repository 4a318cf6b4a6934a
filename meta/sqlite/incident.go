package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/admeter/admeter"
)

// noticeText is a notice's stored text.
type noticeText struct {
	Subject admeter.Text `json:"subject"`
	Body    admeter.Text `json:"body"`
}

// announcementText is an announcement's stored text.
type announcementText struct {
	Title admeter.Text `json:"title"`
	Body  admeter.Text `json:"body"`
}

// CreateIncident stores a new incident, assigning i.ID ("in_" and 12 random
// base32 characters) and its creation and update times.
func (db *DB) CreateIncident(ctx context.Context, i *admeter.Incident) error {
	content, err := json.Marshal(i.IncidentContent)
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	tenants, err := json.Marshal(nonNilTenants(i.Tenants))
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	var id string
	var now time.Time
	err = db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		var err error
		id, err = insertWithRandomID("incident id",
			func() string { return "in_" + db.randomString(base32Lower, 12) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO incidents (id, content, severity, all_tenants, tenants, report_due, reported, report_ref,
						created_by, created, updated)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, string(content), string(i.Severity), i.AllTenants, string(tenants), formatTime(i.ReportDue),
					nullTime(i.Reported), i.ReportRef, i.CreatedBy, formatTime(tx.now), formatTime(tx.now))
				if err != nil {
					return false, fmt.Errorf("insert incident: %w", err)
				}
				return insertedOne(res)
			})
		return err
	})
	if err != nil {
		return wrap("create incident", err)
	}
	i.ID, i.Created, i.Updated = admeter.IncidentID(id), now, now
	return nil
}

// UpdateIncident saves everything about i but its id, creator and creation
// time, and sets i.Updated. Returns ENOTFOUND if there is no such incident.
func (db *DB) UpdateIncident(ctx context.Context, i *admeter.Incident) error {
	content, err := json.Marshal(i.IncidentContent)
	if err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	tenants, err := json.Marshal(nonNilTenants(i.Tenants))
	if err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	var now time.Time
	err = db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		res, err := tx.ExecContext(ctx, `
			UPDATE incidents SET content = ?, severity = ?, all_tenants = ?, tenants = ?, report_due = ?, reported = ?,
				report_ref = ?, updated = ?
			WHERE id = ?`,
			string(content), string(i.Severity), i.AllTenants, string(tenants), formatTime(i.ReportDue), nullTime(i.Reported),
			i.ReportRef, formatTime(tx.now), string(i.ID))
		if err != nil {
			return fmt.Errorf("update incident: %w", err)
		}
		if ok, err := insertedOne(res); err != nil {
			return err
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Incident %s not found.", i.ID)
		}
		return nil
	})
	if err != nil {
		return wrap("update incident", err)
	}
	i.Updated = now
	return nil
}

// Incident returns an incident by id. Returns ENOTFOUND if there is none.
func (db *DB) Incident(ctx context.Context, id admeter.IncidentID) (*admeter.Incident, error) {
	is, err := db.queryIncidents(ctx, `WHERE id = ?`, string(id))
	if err != nil {
		return nil, wrap("get incident", err)
	}
	if len(is) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Incident %s not found.", id)
	}
	return is[0], nil
}

// Incidents returns every incident, newest first.
func (db *DB) Incidents(ctx context.Context) ([]*admeter.Incident, error) {
	is, err := db.queryIncidents(ctx, `ORDER BY created DESC, id`)
	return is, wrap("list incidents", err)
}

func (db *DB) queryIncidents(ctx context.Context, where string, args ...any) ([]*admeter.Incident, error) {
	var out []*admeter.Incident
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id, content, severity, all_tenants, tenants, report_due, reported, report_ref, created_by, created, updated
			FROM incidents `+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i admeter.Incident
			var content, tenants, due, created, updated string
			var reported sql.NullString
			if err := rows.Scan(&i.ID, &content, &i.Severity, &i.AllTenants, &tenants, &due, &reported, &i.ReportRef,
				&i.CreatedBy, &created, &updated); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(content), &i.IncidentContent); err != nil {
				return fmt.Errorf("incident %s content: %w", i.ID, err)
			}
			if err := json.Unmarshal([]byte(tenants), &i.Tenants); err != nil {
				return fmt.Errorf("incident %s tenants: %w", i.ID, err)
			}
			if len(i.Tenants) == 0 {
				i.Tenants = nil
			}
			if err := parseTimes([]string{due, created, updated}, &i.ReportDue, &i.Created, &i.Updated); err != nil {
				return err
			}
			if reported.Valid {
				if i.Reported, err = parseTime(reported.String); err != nil {
					return err
				}
			}
			out = append(out, &i)
		}
		return rows.Err()
	})
	return out, err
}

// CreateAnnouncement stores a new announcement, assigning a.ID ("an_" and 12
// random base32 characters) and a.Created.
func (db *DB) CreateAnnouncement(ctx context.Context, a *admeter.Announcement) error {
	content, err := json.Marshal(announcementText{Title: a.Title, Body: a.Body})
	if err != nil {
		return fmt.Errorf("create announcement: %w", err)
	}
	var id string
	var now time.Time
	err = db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		var err error
		id, err = insertWithRandomID("announcement id",
			func() string { return "an_" + db.randomString(base32Lower, 12) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO announcements (id, kind, content, starts, ends, created_by, created)
					VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, string(a.Kind), string(content), nullTime(a.Starts), nullTime(a.Ends), a.CreatedBy, formatTime(tx.now))
				if err != nil {
					return false, fmt.Errorf("insert announcement: %w", err)
				}
				return insertedOne(res)
			})
		return err
	})
	if err != nil {
		return wrap("create announcement", err)
	}
	a.ID, a.Created = id, now
	return nil
}

// Announcements returns every announcement, newest first.
func (db *DB) Announcements(ctx context.Context) ([]*admeter.Announcement, error) {
	var out []*admeter.Announcement
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id, kind, content, starts, ends, created_by, created
			FROM announcements ORDER BY created DESC, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a admeter.Announcement
			var content, created string
			var starts, ends sql.NullString
			if err := rows.Scan(&a.ID, &a.Kind, &content, &starts, &ends, &a.CreatedBy, &created); err != nil {
				return err
			}
			var text announcementText
			if err := json.Unmarshal([]byte(content), &text); err != nil {
				return fmt.Errorf("announcement %s content: %w", a.ID, err)
			}
			a.Title, a.Body = text.Title, text.Body
			if a.Created, err = parseTime(created); err != nil {
				return err
			}
			if a.Starts, err = parseNullTime(starts); err != nil {
				return err
			}
			if a.Ends, err = parseNullTime(ends); err != nil {
				return err
			}
			out = append(out, &a)
		}
		return rows.Err()
	})
	return out, wrap("list announcements", err)
}

// CreateNotice stores a notice, the tenants it is addressed to and its
// deliveries, all or nothing. It assigns the ids ("nt_…", "dl_…") and
// times; every delivery is pending and due at once. Every tenant must
// exist.
func (db *DB) CreateNotice(ctx context.Context, n *admeter.Notice, ds []*admeter.Delivery) error {
	content, err := json.Marshal(noticeText{Subject: n.Subject, Body: n.Body})
	if err != nil {
		return fmt.Errorf("create notice: %w", err)
	}
	payload := n.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	var id string
	var now time.Time
	ids := make([]string, len(ds))
	err = db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		var err error
		id, err = insertWithRandomID("notice id",
			func() string { return "nt_" + db.randomString(base32Lower, 12) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO notices (id, kind, incident_id, announcement_id, critical, content, payload, created_by, created)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, string(n.Kind), nullString(string(n.Incident)), nullString(n.Announcement), n.Critical,
					string(content), string(payload), n.CreatedBy, formatTime(tx.now))
				if err != nil {
					return false, fmt.Errorf("insert notice: %w", err)
				}
				return insertedOne(res)
			})
		if err != nil {
			return err
		}
		for _, t := range n.Tenants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notice_tenants (notice_id, tenant_id) VALUES (?, ?) ON CONFLICT DO NOTHING`,
				id, string(t)); err != nil {
				return fmt.Errorf("insert notice tenant: %w", err)
			}
		}
		for k, d := range ds {
			ids[k], err = insertWithRandomID("delivery id",
				func() string { return "dl_" + db.randomString(base32Lower, 12) },
				func(did string) (bool, error) {
					res, err := tx.ExecContext(ctx, `
						INSERT INTO deliveries (id, notice_id, tenant_id, channel, recipient, status, next_attempt, created, updated)
						VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)
						ON CONFLICT (id) DO NOTHING`,
						did, id, string(d.Tenant), string(d.Channel), d.Recipient, formatTime(tx.now), formatTime(tx.now), formatTime(tx.now))
					if err != nil {
						return false, fmt.Errorf("insert delivery: %w", err)
					}
					return insertedOne(res)
				})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("create notice", err)
	}
	n.ID, n.Created = id, now
	for k, d := range ds {
		d.ID, d.Notice, d.Status, d.Attempts, d.LastError = ids[k], id, admeter.DeliveryPending, 0, ""
		d.NextAttempt, d.Sent, d.Created, d.Updated = now, time.Time{}, now, now
	}
	return nil
}

// noticeColumns are the columns queryNotices scans, of notices n.
const noticeColumns = `n.id, n.kind, COALESCE(n.incident_id, ''), COALESCE(n.announcement_id, ''), n.critical, n.content, n.payload,
	n.created_by, n.created, (SELECT COALESCE(json_group_array(tenant_id), '[]') FROM
		(SELECT tenant_id FROM notice_tenants WHERE notice_id = n.id ORDER BY tenant_id))`

// Notice returns a notice by id. Returns ENOTFOUND if there is none.
func (db *DB) Notice(ctx context.Context, id string) (*admeter.Notice, error) {
	ns, err := db.queryNotices(ctx, `SELECT `+noticeColumns+` FROM notices n WHERE n.id = ?`, id)
	if err != nil {
		return nil, wrap("get notice", err)
	}
	if len(ns) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Notice %s not found.", id)
	}
	return ns[0], nil
}

// IncidentNotices returns the notices sent about an incident, oldest first.
func (db *DB) IncidentNotices(ctx context.Context, id admeter.IncidentID) ([]*admeter.Notice, error) {
	ns, err := db.queryNotices(ctx, `SELECT `+noticeColumns+` FROM notices n WHERE n.incident_id = ? ORDER BY n.created, n.id`, string(id))
	return ns, wrap("list incident notices", err)
}

// AnnouncementNotices returns the notices of an announcement, oldest first.
func (db *DB) AnnouncementNotices(ctx context.Context, id string) ([]*admeter.Notice, error) {
	ns, err := db.queryNotices(ctx, `SELECT `+noticeColumns+` FROM notices n WHERE n.announcement_id = ? ORDER BY n.created, n.id`, id)
	return ns, wrap("list announcement notices", err)
}

// TenantNotices returns the notices addressed to a tenant, newest first.
// Their Tenants name only that tenant: a tenant never learns whom else a
// notice went to.
func (db *DB) TenantNotices(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Notice, error) {
	ns, err := db.queryNotices(ctx, `SELECT `+noticeColumns+` FROM notices n
		JOIN notice_tenants nt ON nt.notice_id = n.id AND nt.tenant_id = ?
		ORDER BY n.created DESC, n.id`, string(tenant))
	for _, n := range ns {
		n.Tenants = []admeter.TenantID{tenant}
	}
	return ns, wrap("list tenant notices", err)
}

func (db *DB) queryNotices(ctx context.Context, query string, args ...any) ([]*admeter.Notice, error) {
	var out []*admeter.Notice
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n admeter.Notice
			var content, payload, created, tenants string
			if err := rows.Scan(&n.ID, &n.Kind, &n.Incident, &n.Announcement, &n.Critical, &content, &payload,
				&n.CreatedBy, &created, &tenants); err != nil {
				return err
			}
			var text noticeText
			if err := json.Unmarshal([]byte(content), &text); err != nil {
				return fmt.Errorf("notice %s content: %w", n.ID, err)
			}
			n.Subject, n.Body, n.Payload = text.Subject, text.Body, []byte(payload)
			if err := json.Unmarshal([]byte(tenants), &n.Tenants); err != nil {
				return fmt.Errorf("notice %s tenants: %w", n.ID, err)
			}
			if n.Created, err = parseTime(created); err != nil {
				return err
			}
			out = append(out, &n)
		}
		return rows.Err()
	})
	return out, err
}

// deliveryColumns are the columns scanDeliveries reads.
const deliveryColumns = `id, notice_id, tenant_id, channel, recipient, status, attempts, last_error, next_attempt, sent, created, updated`

// Deliveries returns a notice's deliveries, by tenant, channel and
// recipient.
func (db *DB) Deliveries(ctx context.Context, notice string) ([]*admeter.Delivery, error) {
	ds, err := db.queryDeliveries(ctx, `WHERE notice_id = ? ORDER BY tenant_id, channel, recipient`, notice)
	return ds, wrap("list deliveries", err)
}

// DueDeliveries returns at most limit deliveries that are pending or failed
// and due at or before now, the longest waiting first.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*admeter.Delivery, error) {
	ds, err := db.queryDeliveries(ctx, `WHERE status IN ('pending', 'failed') AND next_attempt <= ?
		ORDER BY next_attempt, id LIMIT ?`, formatTime(now), limit)
	return ds, wrap("list due deliveries", err)
}

// UpdateDelivery saves d's status, attempts, last error, next attempt and
// sending time, and sets d.Updated. Returns ENOTFOUND if there is no such
// delivery.
func (db *DB) UpdateDelivery(ctx context.Context, d *admeter.Delivery) error {
	var now time.Time
	err := db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		res, err := tx.ExecContext(ctx, `
			UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, next_attempt = ?, sent = ?, updated = ?
			WHERE id = ?`,
			string(d.Status), d.Attempts, d.LastError, formatTime(d.NextAttempt), nullTime(d.Sent), formatTime(tx.now), d.ID)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if ok, err := insertedOne(res); err != nil {
			return err
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Delivery %s not found.", d.ID)
		}
		return nil
	})
	if err != nil {
		return wrap("update delivery", err)
	}
	d.Updated = now
	return nil
}

func (db *DB) queryDeliveries(ctx context.Context, where string, args ...any) ([]*admeter.Delivery, error) {
	var out []*admeter.Delivery
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d admeter.Delivery
			var next, created, updated string
			var sent sql.NullString
			if err := rows.Scan(&d.ID, &d.Notice, &d.Tenant, &d.Channel, &d.Recipient, &d.Status, &d.Attempts, &d.LastError,
				&next, &sent, &created, &updated); err != nil {
				return err
			}
			if err := parseTimes([]string{next, created, updated}, &d.NextAttempt, &d.Created, &d.Updated); err != nil {
				return err
			}
			var err error
			if d.Sent, err = parseNullTime(sent); err != nil {
				return err
			}
			out = append(out, &d)
		}
		return rows.Err()
	})
	return out, err
}

// NotifySettings returns a tenant's notification settings: the zero
// settings, with Tenant set, if it never saved any.
func (db *DB) NotifySettings(ctx context.Context, tenant admeter.TenantID) (*admeter.NotifySettings, error) {
	s := &admeter.NotifySettings{Tenant: tenant}
	err := db.view(ctx, func(tx *sql.Tx) error {
		var updated string
		err := tx.QueryRowContext(ctx, `
			SELECT email, webhook_url, webhook_secret, unsubscribed, updated FROM notify_settings WHERE tenant_id = ?`,
			string(tenant)).Scan(&s.Email, &s.WebhookURL, &s.WebhookSecret, &s.Unsubscribed, &updated)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		s.Updated, err = parseTime(updated)
		return err
	})
	if err != nil {
		return nil, wrap("get notification settings", err)
	}
	return s, nil
}

// SetNotifySettings saves a tenant's notification settings and sets
// s.Updated. The tenant must exist.
func (db *DB) SetNotifySettings(ctx context.Context, s *admeter.NotifySettings) error {
	var now time.Time
	err := db.update(ctx, func(tx *writeTx) error {
		now = tx.now
		_, err := tx.ExecContext(ctx, `
			INSERT INTO notify_settings (tenant_id, email, webhook_url, webhook_secret, unsubscribed, updated)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET email = excluded.email, webhook_url = excluded.webhook_url,
				webhook_secret = excluded.webhook_secret, unsubscribed = excluded.unsubscribed, updated = excluded.updated`,
			string(s.Tenant), s.Email, s.WebhookURL, s.WebhookSecret, s.Unsubscribed, formatTime(tx.now))
		if err != nil {
			return fmt.Errorf("save notification settings: %w", err)
		}
		return nil
	})
	if err != nil {
		return wrap("save notification settings", err)
	}
	s.Updated = now
	return nil
}

// nonNilTenants returns ts, or an empty list for nil, so that it encodes
// as a JSON array.
func nonNilTenants(ts []admeter.TenantID) []admeter.TenantID {
	if ts == nil {
		return []admeter.TenantID{}
	}
	return ts
}

// parseTimes parses stored times into dst, in order.
func parseTimes(src []string, dst ...*time.Time) error {
	for k, s := range src {
		t, err := parseTime(s)
		if err != nil {
			return err
		}
		*dst[k] = t
	}
	return nil
}

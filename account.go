package admeter

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// TenantStatus is where an enterprise account stands. A registration starts
// pending; an operator verifies the company (with a note) and activates it.
// Only an active tenant's users and tokens may act; a suspended tenant's
// monitoring URLs still answer but its events are refused; a closed tenant's
// data is deleted once the retention floor has passed.
type TenantStatus string

// Tenant statuses.
const (
	TenantPending   TenantStatus = "pending"
	TenantVerified  TenantStatus = "verified"
	TenantActive    TenantStatus = "active"
	TenantSuspended TenantStatus = "suspended"
	TenantClosed    TenantStatus = "closed"
)

// Valid reports whether s is a defined status.
func (s TenantStatus) Valid() bool {
	switch s {
	case TenantPending, TenantVerified, TenantActive, TenantSuspended, TenantClosed:
		return true
	}
	return false
}

// CanMoveTo reports whether an operator may move a tenant from s to next:
// pending → verified → active; active ⇄ suspended; any but closed → closed.
func (s TenantStatus) CanMoveTo(next TenantStatus) bool {
	switch next {
	case TenantVerified:
		return s == TenantPending
	case TenantActive:
		return s == TenantVerified || s == TenantSuspended
	case TenantSuspended:
		return s == TenantActive
	case TenantClosed:
		return s != TenantClosed
	}
	return false
}

// Registration is an enterprise's registration data (privacy policy 正文
// 一(一)1): what admeter needs to create, manage and bill the account.
type Registration struct {
	// Company is the registered company name.
	Company string `json:"company"`
	// CreditCode is the unified social credit code (统一社会信用代码), 18
	// characters with a check character (GB 32100-2015).
	CreditCode string `json:"credit_code"`
	// LicenceRef is the business licence reference (a document number or
	// the id of an uploaded copy).
	LicenceRef string `json:"licence_ref"`
	// Contact is the contact person's name.
	Contact string `json:"contact"`
	// Phone is a mainland China mobile number (11 digits starting with 1).
	Phone string `json:"phone"`
	// Email is the contact email address.
	Email string `json:"email"`
}

// Normalize trims the fields, uppercases the credit code and strips a +86
// or 0086 prefix and separators from the phone.
func (r *Registration) Normalize() {
	r.Company = strings.TrimSpace(r.Company)
	r.CreditCode = strings.ToUpper(strings.TrimSpace(r.CreditCode))
	r.LicenceRef = strings.TrimSpace(r.LicenceRef)
	r.Contact = strings.TrimSpace(r.Contact)
	r.Email = strings.TrimSpace(r.Email)
	p := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(strings.TrimSpace(r.Phone))
	p = strings.TrimPrefix(p, "+86")
	p = strings.TrimPrefix(p, "0086")
	r.Phone = p
}

// Validate normalises r and returns an EINVALID error naming the first field
// that is wrong and what it should be.
func (r *Registration) Validate() error {
	r.Normalize()
	switch {
	case r.Company == "":
		return Errorf(EINVALID, "company is required: the registered company name")
	case utf8.RuneCountInString(r.Company) > 100:
		return Errorf(EINVALID, "company is longer than 100 characters")
	}
	if err := CheckCreditCode(r.CreditCode); err != nil {
		return err
	}
	switch {
	case r.LicenceRef == "":
		return Errorf(EINVALID, "licence_ref is required: the business licence number or document reference")
	case utf8.RuneCountInString(r.LicenceRef) > 100:
		return Errorf(EINVALID, "licence_ref is longer than 100 characters")
	case r.Contact == "":
		return Errorf(EINVALID, "contact is required: the contact person's name")
	case utf8.RuneCountInString(r.Contact) > 50:
		return Errorf(EINVALID, "contact is longer than 50 characters")
	}
	if err := CheckMobile(r.Phone); err != nil {
		return err
	}
	return CheckEmail(r.Email)
}

// creditCodeChars are the characters of a unified social credit code, in
// the order of their values (GB 32100-2015: digits and uppercase letters
// without I, O, S, V and Z).
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditCodeWeights are the weights of the first 17 characters.
var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckCreditCode returns an EINVALID error unless code is a well-formed
// unified social credit code whose last character is its check character
// (GB 32100-2015: the weighted sum of the first 17 values mod 31).
func CheckCreditCode(code string) error {
	if len(code) != 18 {
		return Errorf(EINVALID, "credit_code must be the 18-character unified social credit code (统一社会信用代码), not %d characters", utf8.RuneCountInString(code))
	}
	sum := 0
	for i := range 18 {
		v := strings.IndexByte(creditCodeChars, code[i])
		if v < 0 {
			return Errorf(EINVALID, "credit_code character %d (%q) is not allowed: use digits and uppercase letters except I, O, S, V and Z", i+1, code[i])
		}
		if i < 17 {
			sum += v * creditCodeWeights[i]
		}
	}
	check := (31 - sum%31) % 31
	if code[17] != creditCodeChars[check] {
		return Errorf(EINVALID, "credit_code fails its check character: please check it against the business licence (校验码不符)")
	}
	return nil
}

// CheckMobile returns an EINVALID error unless phone is a mainland China
// mobile number: 11 digits, starting with 1 and a second digit 3–9.
func CheckMobile(phone string) error {
	ok := len(phone) == 11 && phone[0] == '1' && phone[1] >= '3' && phone[1] <= '9'
	for i := 0; ok && i < len(phone); i++ {
		ok = phone[i] >= '0' && phone[i] <= '9'
	}
	if !ok {
		return Errorf(EINVALID, "phone must be a mainland China mobile number such as 13812345678 (11 digits; +86 may precede it)")
	}
	return nil
}

// CheckEmail returns an EINVALID error unless email is a plain address
// (local@domain, no display name).
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") || len(email) > 254 {
		return Errorf(EINVALID, "email must be an address such as name@example.com")
	}
	return nil
}

// UserID identifies a user account.
type UserID string

// Role is what a user may do within its tenant.
type Role string

// Roles, from most to least privileged.
const (
	// RoleOwner may do everything, including closing the account and
	// changing other owners.
	RoleOwner Role = "owner"
	// RoleAdmin manages campaigns, users (except owners), tokens and grants.
	RoleAdmin Role = "admin"
	// RoleAnalyst reads reports and exports.
	RoleAnalyst Role = "analyst"
	// RoleViewer reads campaigns and summary reports.
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a defined role.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleAnalyst, RoleViewer:
		return true
	}
	return false
}

// Permission is one kind of action the API authorises.
type Permission string

// Permissions.
const (
	PermReadCampaigns   Permission = "campaigns:read"
	PermManageCampaigns Permission = "campaigns:manage"
	PermReadReports     Permission = "reports:read"
	PermExport          Permission = "reports:export"
	PermCollect         Permission = "collect"
	PermRights          Permission = "rights"
	PermManageUsers     Permission = "users:manage"
	PermManageTokens    Permission = "tokens:manage"
	PermManageGrants    Permission = "grants:manage"
	PermManageAccount   Permission = "account:manage"
	PermCloseAccount    Permission = "account:close"
	PermReadAudit       Permission = "audit:read"
)

// rolePerms lists what each role may do.
var rolePerms = map[Role][]Permission{
	RoleOwner: {PermReadCampaigns, PermManageCampaigns, PermReadReports, PermExport, PermRights, PermManageUsers,
		PermManageTokens, PermManageGrants, PermManageAccount, PermCloseAccount, PermReadAudit},
	RoleAdmin: {PermReadCampaigns, PermManageCampaigns, PermReadReports, PermExport, PermRights, PermManageUsers,
		PermManageTokens, PermManageGrants, PermManageAccount, PermReadAudit},
	RoleAnalyst: {PermReadCampaigns, PermReadReports, PermExport},
	RoleViewer:  {PermReadCampaigns, PermReadReports},
}

// Allows reports whether a user with role r may act with permission p.
func (r Role) Allows(p Permission) bool {
	for _, q := range rolePerms[r] {
		if q == p {
			return true
		}
	}
	return false
}

// TokenScope is what an API token may be used for.
type TokenScope string

// Token scopes.
const (
	// ScopeCollect sends events (the batch API) and nothing else.
	ScopeCollect TokenScope = "collect"
	// ScopeReportsRead reads campaigns and reports.
	ScopeReportsRead TokenScope = "reports:read"
	// ScopeManage manages campaigns, end-user requests and reads reports.
	ScopeManage TokenScope = "manage"
)

// Valid reports whether s is a defined scope.
func (s TokenScope) Valid() bool {
	return s == ScopeCollect || s == ScopeReportsRead || s == ScopeManage
}

// scopePerms lists what each scope allows. Tokens never manage users,
// tokens, grants or the account: those need a signed-in user.
var scopePerms = map[TokenScope][]Permission{
	ScopeCollect:     {PermCollect},
	ScopeReportsRead: {PermReadCampaigns, PermReadReports, PermExport},
	ScopeManage:      {PermReadCampaigns, PermManageCampaigns, PermReadReports, PermExport, PermRights, PermCollect},
}

// ScopesAllow reports whether a token with scopes may act with permission p.
func ScopesAllow(scopes []TokenScope, p Permission) bool {
	for _, s := range scopes {
		for _, q := range scopePerms[s] {
			if q == p {
				return true
			}
		}
	}
	return false
}

// User is a person who signs in to a tenant. Its password hash and second
// factor secret are kept by the metadata store, never in this type.
type User struct {
	ID     UserID
	Tenant TenantID
	Email  string
	Name   string
	Role   Role
	// TOTP is true once the user has confirmed a second factor.
	TOTP     bool
	Disabled bool
	Created  time.Time
}

// TokenID identifies an API token (not the secret).
type TokenID string

// APIToken describes an API token: never its secret, which is shown once and
// stored only as a hash.
type APIToken struct {
	ID      TokenID
	Tenant  TenantID
	Name    string
	Scopes  []TokenScope
	Created time.Time
	// CreatedBy is the actor that made it ("user:u_…", "operator").
	CreatedBy string
	// LastUsed is when it last authenticated a request (zero: never).
	LastUsed time.Time
	// Revoked is when it was revoked (zero: live).
	Revoked time.Time
	// Expires is when it stops working (zero: never).
	Expires time.Time
}

// Package provider is the Terraform glue around internal/faceki: schema,
// configuration and diagnostics. Everything that talks to FACEKI lives in
// the client.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// Environment variables read when an attribute is not set.
const (
	EnvClientID       = "FACEKI_CLIENT_ID"
	EnvClientSecret   = "FACEKI_CLIENT_SECRET"
	EnvBaseURL        = "FACEKI_BASE_URL"
	EnvMaxRetries     = "FACEKI_MAX_RETRIES"
	EnvRequestTimeout = "FACEKI_REQUEST_TIMEOUT"
	EnvTokenEndpoint  = "FACEKI_TOKEN_ENDPOINT"
	EnvTokenCache     = "FACEKI_TOKEN_CACHE"
	EnvTokenCacheDir  = "FACEKI_TOKEN_CACHE_DIR"

	maxRequestTimeout = 10 * time.Minute
)

var (
	_ provider.Provider                       = (*FacekiProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*FacekiProvider)(nil)
	_ provider.ProviderWithValidateConfig     = (*FacekiProvider)(nil)
)

// FacekiProvider is the faceki provider. One value serves one provider
// process; its token cache and its redactor outlive reconfiguration within
// that process. The redactor knows every secret configured on any provider
// instance and every token any client fetched, and every diagnostic and log
// line of the process passes through it.
type FacekiProvider struct {
	version     string
	tokens      *faceki.TokenCache
	rd          *redact.Redactor
	clockWarned atomic.Bool
}

// New returns a factory for the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &FacekiProvider{version: version, tokens: faceki.NewTokenCache(), rd: redact.New()}
	}
}

type providerModel struct {
	ClientID       types.String `tfsdk:"client_id"`
	ClientSecret   types.String `tfsdk:"client_secret"`
	BaseURL        types.String `tfsdk:"base_url"`
	MaxRetries     types.Int64  `tfsdk:"max_retries"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	TokenEndpoint  types.String `tfsdk:"token_endpoint"`
	TokenCache     types.String `tfsdk:"token_cache"`
	TokenCacheDir  types.String `tfsdk:"token_cache_dir"`
}

// Values of token_cache.
const (
	tokenCacheMemory = "memory"
	tokenCacheFile   = "file"
)

func (p *FacekiProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "faceki"
	resp.Version = p.version
}

func (p *FacekiProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Gets short-lived bearer tokens from FACEKI's identity-verification (KYC) API. " +
			"The ephemeral resource `faceki_access_token` hands them to the rest of the configuration without " +
			"writing them to state or plan files; the `faceki_access_token` data source, for CLIs without " +
			"ephemeral resources, does store them in state. `faceki_kyc_rules` reads the company's KYC rules. " +
			"Every attribute may be unknown during plan or come from an ephemeral value; " +
			"credentials are needed only when a token is requested.",
		Attributes: map[string]schema.Attribute{
			"client_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "FACEKI client ID, from the Integration Settings of FACEKI's dashboard. " +
					"Defaults to the `" + EnvClientID + "` environment variable.",
			},
			"client_secret": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "FACEKI client secret, from the Integration Settings of FACEKI's dashboard. " +
					"Defaults to the `" + EnvClientSecret + "` environment variable. Prefer the environment variable " +
					"or an ephemeral value (an `ephemeral` variable, another ephemeral resource) to a literal.",
			},
			"base_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "FACEKI API base URL. Defaults to the `" + EnvBaseURL + "` environment variable, " +
					"else `" + faceki.DefaultBaseURL + "`. Must be `https://`; plain `http://` is accepted only to a " +
					"loopback host (`localhost`, `127.0.0.1`, `[::1]`), for the FACEKI emulator and tests. FACEKI's API " +
					"sits at the host's root: a path (for a gateway in front of it) is kept, with a warning.",
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times a request is retried after a connection error, "+
					"HTTP 429 or HTTP 5xx (never after another 4xx), with exponential backoff and jitter, honouring "+
					"`Retry-After` up to %s (a longer `Retry-After` fails at once). Between 0 and %d. Defaults to "+
					"the `%s` environment variable, else %d.", faceki.MaxRetryAfter, faceki.MaxMaxRetries, EnvMaxRetries, faceki.DefaultMaxRetries),
			},
			"request_timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Timeout of one request attempt, as a Go duration such as `\"30s\"` "+
					"or `\"1m\"`, up to %s. Defaults to the `%s` environment variable, else `\"%s\"`. A token request "+
					"takes at most `(max_retries + 1) × request_timeout` plus `max_retries` waits of at most %s each, and "+
					"so does an open of `faceki_access_token`, waiting for another process's lock on the token file "+
					"included (it waits at most one `request_timeout` for it).",
					maxRequestTimeout, EnvRequestTimeout, faceki.DefaultRequestTimeout, faceki.MaxRetryAfter),
			},
			"token_endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How credentials are sent for a token. `\"access-token\"` (the default, and what every " +
					"FACEKI SDK uses) calls `GET /auth/api/access-token` with the credentials in the query string. " +
					"`\"generate-token\"` calls the newer `POST /auth/api/generate-token` with a JSON body, so the secret " +
					"never appears in a URL: the safer choice where your FACEKI account supports it. Defaults to the `" +
					EnvTokenEndpoint + "` environment variable, else `\"access-token\"`.",
			},
			"token_cache": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Where tokens are kept between uses. `\"memory\"` (the default): within one provider " +
					"process, nothing written anywhere; as the CLI starts a process per walk, an `apply` costs a token " +
					"request per walk that opens the token (two when it has changes to apply) and a `plan` one. `\"file\"`: " +
					"also in an encrypted file per account in `token_cache_dir`, so that every provider process on the " +
					"machine, and later runs, share a token while it has `min_validity` left: one token request per token " +
					"lifetime, as FACEKI asks. The file is sealed with AES-256-GCM under a key derived from the client " +
					"secret; see the token cache guide for the threat model. The " +
					"`faceki_access_token` data source never uses the file. Defaults to the `" + EnvTokenCache +
					"` environment variable, else `\"memory\"`.",
			},
			"token_cache_dir": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The directory of the token files when `token_cache` is `\"file\"`: an absolute path, " +
					"or one starting with `~/` for the home directory (a relative path is an error: the cache would move " +
					"with the working directory). Defaults to the `" +
					EnvTokenCacheDir + "` environment variable, else `terraform-provider-faceki` in the user's cache " +
					"directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux and FreeBSD, `~/Library/Caches` on macOS, " +
					"`%LocalAppData%` on Windows). It is created with mode 0700. A directory that is a symlink, that cannot " +
					"be written (a read-only filesystem, permissions), or (on Unix) is not owned by the current user or is " +
					"writable by group or others, is refused with a warning naming the cause, and tokens are then kept in " +
					"memory only.",
			},
		},
	}
}

// settings is the provider configuration once environment variables are
// applied. A field is "" when unknown, and listed in unknown.
type settings struct {
	clientID, clientSecret, baseURL, tokenEndpoint string
	tokenCache, tokenCacheDir                      string
	maxRetries                                     int
	requestTimeout                                 time.Duration
	unknown                                        map[string]bool
}

// resolve applies environment fallbacks and validates every known value,
// adding attribute errors to diags. Unknown values are recorded, not errors:
// the CLI configures the provider during plan with values it cannot know yet.
// A known secret is registered with rd before anything is reported.
func (m providerModel) resolve(diags interface {
	AddAttributeError(path.Path, string, string)
}, rd *redact.Redactor) settings {
	s := settings{unknown: map[string]bool{}, maxRetries: faceki.DefaultMaxRetries, requestTimeout: faceki.DefaultRequestTimeout}
	str := func(attr string, v types.String, env string) string {
		if v.IsUnknown() {
			s.unknown[attr] = true
			return ""
		}
		if v.IsNull() {
			return os.Getenv(env)
		}
		return v.ValueString()
	}
	s.clientID = str("client_id", m.ClientID, EnvClientID)
	s.clientSecret = str("client_secret", m.ClientSecret, EnvClientSecret)
	rd.AddSecret(s.clientSecret)
	rd.AddPublic(s.clientID)
	s.baseURL = str("base_url", m.BaseURL, EnvBaseURL)
	s.tokenEndpoint = str("token_endpoint", m.TokenEndpoint, EnvTokenEndpoint)
	s.tokenCache = str("token_cache", m.TokenCache, EnvTokenCache)
	s.tokenCacheDir = str("token_cache_dir", m.TokenCacheDir, EnvTokenCacheDir)

	source := func(attr string, v interface{ IsNull() bool }, env string) string {
		if v.IsNull() {
			return "environment variable " + env
		}
		return "attribute " + attr
	}
	if !s.unknown["base_url"] && s.baseURL != "" {
		if _, err := faceki.ParseBaseURL(s.baseURL); err != nil {
			var cfgErr *faceki.ConfigError
			msg := errText(err)
			if errors.As(err, &cfgErr) {
				msg = cfgErr.Msg // its Field is base_url, named already
			}
			diags.AddAttributeError(path.Root("base_url"), fmt.Sprintf(sumInvalid, "base_url"),
				rd.Redact(fmt.Sprintf("The %s is invalid: %s.", source("base_url", m.BaseURL, EnvBaseURL), msg)))
		}
	}
	// The directory matters only to the file cache: a relative one left in
	// the environment must not fail a configuration that keeps tokens in memory.
	if s.tokenCache == tokenCacheFile && !s.unknown["token_cache_dir"] && s.tokenCacheDir != "" {
		dir, err := expandCacheDir(s.tokenCacheDir)
		if err != nil {
			diags.AddAttributeError(path.Root("token_cache_dir"), fmt.Sprintf(sumInvalid, "token_cache_dir"),
				rd.Redact(fmt.Sprintf("The %s is %q: %s.", source("token_cache_dir", m.TokenCacheDir, EnvTokenCacheDir), s.tokenCacheDir, errText(err))))
		}
		s.tokenCacheDir = dir
	}
	switch s.tokenCache {
	case "", tokenCacheMemory, tokenCacheFile:
	default:
		diags.AddAttributeError(path.Root("token_cache"), fmt.Sprintf(sumInvalid, "token_cache"),
			fmt.Sprintf("The %s is %q; it must be %q (the default) or %q.", source("token_cache", m.TokenCache, EnvTokenCache),
				s.tokenCache, tokenCacheMemory, tokenCacheFile))
	}
	switch faceki.TokenEndpoint(s.tokenEndpoint) {
	case "", faceki.EndpointAccessToken, faceki.EndpointGenerateToken:
	default:
		diags.AddAttributeError(path.Root("token_endpoint"), fmt.Sprintf(sumInvalid, "token_endpoint"),
			fmt.Sprintf("The %s is %q; it must be %q (the default) or %q.", source("token_endpoint", m.TokenEndpoint, EnvTokenEndpoint),
				s.tokenEndpoint, faceki.EndpointAccessToken, faceki.EndpointGenerateToken))
	}
	switch {
	case m.MaxRetries.IsUnknown():
		s.unknown["max_retries"] = true
	case !m.MaxRetries.IsNull():
		s.maxRetries = int(m.MaxRetries.ValueInt64())
		if m.MaxRetries.ValueInt64() < 0 || m.MaxRetries.ValueInt64() > faceki.MaxMaxRetries {
			diags.AddAttributeError(path.Root("max_retries"), fmt.Sprintf(sumInvalid, "max_retries"),
				fmt.Sprintf("max_retries is %d; it must be between 0 and %d.", m.MaxRetries.ValueInt64(), faceki.MaxMaxRetries))
		}
	case os.Getenv(EnvMaxRetries) != "":
		n, err := strconv.Atoi(os.Getenv(EnvMaxRetries))
		if err != nil || n < 0 || n > faceki.MaxMaxRetries {
			diags.AddAttributeError(path.Root("max_retries"), fmt.Sprintf(sumInvalid, EnvMaxRetries),
				fmt.Sprintf("The environment variable %s is %q; it must be a whole number between 0 and %d.", EnvMaxRetries, os.Getenv(EnvMaxRetries), faceki.MaxMaxRetries))
		}
		s.maxRetries = n
	}
	if t := str("request_timeout", m.RequestTimeout, EnvRequestTimeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 || d > maxRequestTimeout {
			diags.AddAttributeError(path.Root("request_timeout"), fmt.Sprintf(sumInvalid, "request_timeout"),
				fmt.Sprintf("The %s is %q; it must be a duration such as \"30s\" or \"2m\", above zero and at most %s.",
					source("request_timeout", m.RequestTimeout, EnvRequestTimeout), t, maxRequestTimeout))
		}
		s.requestTimeout = d
	}
	return s
}

func (p *FacekiProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Only literal values are checked here; environment variables belong to
	// the run, not to the configuration.
	m.resolveLiterals(&resp.Diagnostics, p.rd)
}

// resolveLiterals validates the values written in the configuration alone.
func (m providerModel) resolveLiterals(diags interface {
	AddAttributeError(path.Path, string, string)
}, rd *redact.Redactor) {
	lit := providerModel{
		ClientID: types.StringUnknown(), ClientSecret: types.StringUnknown(),
		BaseURL: unknownIfNull(m.BaseURL), TokenEndpoint: unknownIfNull(m.TokenEndpoint),
		RequestTimeout: unknownIfNull(m.RequestTimeout), MaxRetries: m.MaxRetries,
		TokenCache: unknownIfNull(m.TokenCache), TokenCacheDir: unknownIfNull(m.TokenCacheDir),
	}
	if lit.MaxRetries.IsNull() {
		lit.MaxRetries = types.Int64Unknown()
	}
	lit.resolve(diags, rd)
}

func unknownIfNull(v types.String) types.String {
	if v.IsNull() {
		return types.StringUnknown()
	}
	return v
}

func (p *FacekiProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := m.resolve(&resp.Diagnostics, p.rd)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{settings: s, rd: p.rd, log: logger{p.rd}, clockWarned: &p.clockWarned}
	cacheDir := tokenCacheDir(s, &resp.Diagnostics)
	warnBaseURLPath(s.baseURL, &resp.Diagnostics, p.rd)
	if missing := s.missing(); missing == "" {
		client, err := faceki.NewClient(faceki.Config{
			BaseURL:        s.baseURL,
			ClientID:       s.clientID,
			ClientSecret:   s.clientSecret,
			TokenEndpoint:  faceki.TokenEndpoint(s.tokenEndpoint),
			MaxRetries:     s.maxRetries,
			RequestTimeout: s.requestTimeout,
			UserAgent:      userAgent(p.version, req.TerraformVersion),
			Logger:         data.log,
			Cache:          p.tokens,
			Redactor:       p.rd,
			TokenCacheDir:  cacheDir,
		})
		if err != nil {
			addError(&resp.Diagnostics, p.rd, err)
			return
		}
		if err := client.TokenCacheError(); err != nil {
			tokenCacheWarning(&resp.Diagnostics, p.rd, err)
		}
		data.client = client
	}
	data.log.Debug(ctx, "FACEKI provider configured", map[string]any{
		"base_url": s.baseURL, "client_id_set": s.clientID != "", "client_secret_set": s.clientSecret != "",
		"unknown": fmt.Sprint(keys(s.unknown)), "max_retries": s.maxRetries, "request_timeout": s.requestTimeout.String(),
		"token_cache": s.tokenCache, "token_cache_dir": cacheDir,
	})
	resp.EphemeralResourceData = data
	resp.DataSourceData = data
}

// tokenCacheDir is the directory of the token files, or "" when tokens stay
// in memory: token_cache is not "file" (or not known yet, as during some
// plans: memory is the safe choice), or no directory can be found.
func tokenCacheDir(s settings, diags *diag.Diagnostics) string {
	if s.tokenCache != tokenCacheFile {
		return ""
	}
	if s.tokenCacheDir != "" {
		return s.tokenCacheDir
	}
	dir, err := faceki.DefaultCacheDir()
	if err != nil {
		diags.AddAttributeWarning(path.Root("token_cache_dir"), sumCacheDirNotFound,
			fmt.Sprintf("token_cache is %q, but there is no user cache directory to keep the token file in (%s). Tokens "+
				"are kept in memory only. Set token_cache_dir (or %s).", tokenCacheFile, errText(err), EnvTokenCacheDir))
	}
	return dir
}

// tokenCacheWarning says why the token file is not used; the provider goes on
// with its memory cache.
func tokenCacheWarning(diags *diag.Diagnostics, rd *redact.Redactor, err error) {
	diags.AddAttributeWarning(path.Root("token_cache_dir"), sumCacheDirNotUsed,
		rd.Redact(fmt.Sprintf("%s. Tokens are kept in memory only, as with token_cache = %q. Use a directory of your own "+
			"that you can write to and only you can (chmod 700), not a symlink, on a writable filesystem, or set "+
			"token_cache_dir (or %s) to one.", errText(err), tokenCacheMemory, EnvTokenCacheDir)))
}

// expandCacheDir reads "~/" at the start of a token_cache_dir as the home
// directory, as other providers' credential-file paths do, and refuses a
// relative path: a cache that moves with the working directory is no cache.
func expandCacheDir(dir string) (string, error) {
	if rest, ok := strings.CutPrefix(dir, "~"); ok && (rest == "" || os.IsPathSeparator(rest[0])) {
		home, err := os.UserHomeDir()
		if err != nil {
			return dir, fmt.Errorf("it starts with ~, but there is no home directory to read it as (%s)", errText(err))
		}
		return filepath.Join(home, rest), nil
	}
	if !filepath.IsAbs(dir) {
		return dir, fmt.Errorf("it must be an absolute path, or start with ~/ for the home directory: a relative " +
			"path would move with the working directory, and so would the cache")
	}
	return dir, nil
}

// warnBaseURLPath says that a base_url with a path is unusual: FACEKI's API
// sits at the host's root. The path is kept, since a gateway may need it.
func warnBaseURLPath(baseURL string, diags *diag.Diagnostics, rd *redact.Redactor) {
	u, err := faceki.ParseBaseURL(baseURL)
	if baseURL == "" || err != nil || u.Path == "" {
		return
	}
	root := *u
	root.Path = ""
	diags.AddAttributeWarning(path.Root("base_url"), sumBaseURLPath, rd.Redact(fmt.Sprintf("base_url is %q, with the path %q. "+
		"FACEKI's API sits at the host's root (%s), so requests go to %s%s and the like. The path is kept, since a "+
		"gateway in front of FACEKI may need it; if FACEKI answers 404, remove it.", u.String(), u.Path, root.String(),
		u.String(), "/auth/api/access-token")))
}

// missing names the first setting a token request cannot do without.
func (s settings) missing() string {
	for _, attr := range []string{"client_id", "client_secret", "base_url", "token_endpoint", "max_retries", "request_timeout"} {
		if s.unknown[attr] {
			return attr
		}
	}
	if s.clientID == "" {
		return "client_id"
	}
	if s.clientSecret == "" {
		return "client_secret"
	}
	return ""
}

func userAgent(version, cliVersion string) string {
	if cliVersion == "" {
		cliVersion = "unknown"
	}
	return fmt.Sprintf("terraform-provider-faceki/%s (+https://registry.terraform.io/providers/faceki/faceki) Terraform/%s", version, cliVersion)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (p *FacekiProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *FacekiProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewKYCRulesDataSource, NewAccessTokenDataSource}
}

func (p *FacekiProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{NewAccessTokenEphemeralResource}
}

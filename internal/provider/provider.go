// Package provider is the Terraform glue around internal/faceki: schema,
// configuration, diagnostics. It promises that every diagnostic, log line
// and value it hands the CLI holds only its own text, numbers, and outside
// text (configuration values, what FACEKI answered) that passed the
// process's gate; and that Configure never fails on values not known yet.
package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/gate"
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
)

// envOf is each provider attribute's environment variable.
var envOf = map[string]string{
	"client_id": EnvClientID, "client_secret": EnvClientSecret, "base_url": EnvBaseURL,
	"max_retries": EnvMaxRetries, "request_timeout": EnvRequestTimeout, "token_endpoint": EnvTokenEndpoint,
	"token_cache": EnvTokenCache, "token_cache_dir": EnvTokenCacheDir,
}

// Values of token_cache and token_endpoint, and the longest request_timeout.
const (
	tokenCacheMemory  = "memory"
	tokenCacheFile    = "file"
	maxRequestTimeout = 10 * time.Minute
)

var (
	tokenCaches    = []string{tokenCacheMemory, tokenCacheFile}
	tokenEndpoints = []string{string(faceki.EndpointAccessToken), string(faceki.EndpointGenerateToken)}
)

var (
	_ provider.Provider                       = (*FacekiProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*FacekiProvider)(nil)
)

// FacekiProvider is the faceki provider. One value serves one provider
// process; its token cache and its gate outlive reconfiguration within that
// process, so that the gate knows every secret configured and every token
// fetched by any client of the process.
type FacekiProvider struct {
	version     string
	tokens      *faceki.TokenCache
	gate        *gate.Gate
	clockWarned atomic.Bool
}

// New returns a factory for the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &FacekiProvider{version: version, tokens: faceki.NewTokenCache(), gate: gate.New()}
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

func (p *FacekiProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "faceki"
	resp.Version = p.version
}

// orEnv ends an attribute's description with its default.
func orEnv(attr, otherwise string) string {
	return " Defaults to the `" + envOf[attr] + "` environment variable" + otherwise + "."
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
				Optional:            true,
				MarkdownDescription: "FACEKI client ID, from the Integration Settings of FACEKI's dashboard." + orEnv("client_id", ""),
			},
			"client_secret": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "FACEKI client secret, from the Integration Settings of FACEKI's dashboard." +
					orEnv("client_secret", "") + " Prefer the environment variable or an ephemeral value (an `ephemeral` " +
					"variable, another ephemeral resource) to a literal.",
			},
			"base_url": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{rule("a FACEKI base URL", checkBaseURL)},
				MarkdownDescription: "FACEKI API base URL." + orEnv("base_url", ", else `"+faceki.DefaultBaseURL+"`") +
					" Must be `https://`; plain `http://` is accepted only to a loopback host (`localhost`, `127.0.0.1`, " +
					"`[::1]`), for the FACEKI emulator and tests. FACEKI's API sits at the host's root: a path (for a " +
					"gateway in front of it) is kept, with a warning.",
			},
			"max_retries": schema.Int64Attribute{
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, faceki.MaxMaxRetries)},
				MarkdownDescription: fmt.Sprintf("How many times a request is retried after a connection error, "+
					"HTTP 429 or HTTP 5xx (never after another 4xx), with exponential backoff and jitter, honouring "+
					"`Retry-After` up to %s (a longer `Retry-After` fails at once). Between 0 and %d.",
					faceki.MaxRetryAfter, faceki.MaxMaxRetries) + orEnv("max_retries", fmt.Sprintf(", else %d", faceki.DefaultMaxRetries)),
			},
			"request_timeout": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{rule("a duration", checkTimeout)},
				MarkdownDescription: fmt.Sprintf("Timeout of one request attempt, as a Go duration such as `\"30s\"` or "+
					"`\"1m\"`, up to %s.", maxRequestTimeout) + orEnv("request_timeout", ", else `\"30s\"`") +
					" An open of `faceki_access_token` takes at most `" + faceki.Bound + "`, waiting for another process's " +
					"lock on the token file included (it waits at most one `request_timeout` for it).",
			},
			"token_endpoint": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(tokenEndpoints...)},
				MarkdownDescription: "How credentials are sent for a token. `\"access-token\"` (the default, and what every " +
					"FACEKI SDK uses) calls `GET /auth/api/access-token` with the credentials in the query string. " +
					"`\"generate-token\"` calls the newer `POST /auth/api/generate-token` with a JSON body, so the secret " +
					"never appears in a URL: the safer choice where your FACEKI account supports it." +
					orEnv("token_endpoint", ", else `\"access-token\"`"),
			},
			"token_cache": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(tokenCaches...)},
				MarkdownDescription: "Where tokens are kept between uses. `\"memory\"` (the default): within one provider " +
					"process, nothing written anywhere; as the CLI starts a process per walk, an `apply` costs a token " +
					"request per walk that opens the token (two when it has changes to apply) and a `plan` one. `\"file\"`: " +
					"also in an encrypted file per account in `token_cache_dir`, so that every provider process on the " +
					"machine, and later runs, share a token while it has `min_validity` left: one token request per token " +
					"lifetime, as FACEKI asks. The file is sealed with AES-256-GCM under a key derived from the client " +
					"secret; see the token cache guide for the threat model. The `faceki_access_token` data source never " +
					"uses the file." + orEnv("token_cache", ", else `\"memory\"`"),
			},
			"token_cache_dir": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{rule("a directory", checkCacheDir)},
				MarkdownDescription: "The directory of the token files when `token_cache` is `\"file\"`: an absolute path, " +
					"or one starting with `~/` for the home directory (a relative path is an error: the cache would move " +
					"with the working directory)." + orEnv("token_cache_dir", ", else `terraform-provider-faceki` in the "+
					"user's cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux and FreeBSD, `~/Library/Caches` on "+
					"macOS, `%LocalAppData%` on Windows)") + " It is created with mode 0700. A directory that is a symlink, " +
					"that cannot be written (a read-only filesystem, permissions), or (on Unix) is not owned by the current " +
					"user or is writable by group or others, is refused with a warning naming the cause, and tokens are " +
					"then kept in memory only.",
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

// resolve applies environment fallbacks and checks each value that comes
// from the environment by the rule its attribute's validator applies to
// the configuration. Unknown values are recorded, not errors: the CLI
// configures the provider during plan with values it cannot know yet. The
// secret and the client ID reach the gate before anything is reported.
func (m providerModel) resolve(diags *diag.Diagnostics, g *gate.Gate) settings {
	s := settings{unknown: map[string]bool{}, maxRetries: faceki.DefaultMaxRetries, requestTimeout: faceki.DefaultRequestTimeout}
	// get is an attribute's value (literal), else its environment
	// variable's, held to rule, the rule of the attribute's validator.
	get := func(name string, v attr.Value, literal string, rule func(string) error) string {
		switch {
		case v.IsUnknown():
			s.unknown[name] = true
			return ""
		case !v.IsNull():
			return literal
		}
		env := os.Getenv(envOf[name])
		if env == "" || rule == nil {
			return env
		}
		if err := rule(env); err != nil {
			diags.AddAttributeError(path.Root(name), fmt.Sprintf(sumInvalid, name), fmt.Sprintf(
				"The environment variable %s is %q: it %s.", envOf[name], g.Quote(env), errText(err)))
		}
		return env
	}
	s.clientID = get("client_id", m.ClientID, m.ClientID.ValueString(), nil)
	s.clientSecret = get("client_secret", m.ClientSecret, m.ClientSecret.ValueString(), nil)
	g.AddSecret(s.clientSecret) // before anything is quoted
	g.AddPublic(s.clientID)
	s.baseURL = get("base_url", m.BaseURL, m.BaseURL.ValueString(), checkBaseURL)
	s.tokenEndpoint = get("token_endpoint", m.TokenEndpoint, m.TokenEndpoint.ValueString(), oneOf(tokenEndpoints))
	s.tokenCache = get("token_cache", m.TokenCache, m.TokenCache.ValueString(), oneOf(tokenCaches))
	if d, err := time.ParseDuration(get("request_timeout", m.RequestTimeout, m.RequestTimeout.ValueString(), checkTimeout)); err == nil && d > 0 {
		s.requestTimeout = d
	}
	if n, err := strconv.Atoi(get("max_retries", m.MaxRetries, m.MaxRetries.String(), checkRetries)); err == nil {
		s.maxRetries = n
	}
	// The directory matters only to the file cache: one left in the
	// environment must not fail a configuration that keeps tokens in memory.
	if s.tokenCache == tokenCacheFile {
		dir, err := expandCacheDir(get("token_cache_dir", m.TokenCacheDir, m.TokenCacheDir.ValueString(), checkCacheDir))
		if err != nil {
			diags.AddAttributeError(path.Root("token_cache_dir"), fmt.Sprintf(sumInvalid, "token_cache_dir"),
				fmt.Sprintf("token_cache_dir %s.", errText(err)))
		}
		s.tokenCacheDir = dir
	} else if m.TokenCacheDir.IsUnknown() {
		s.unknown["token_cache_dir"] = true
	}
	return s
}

func (p *FacekiProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := m.resolve(&resp.Diagnostics, p.gate)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{settings: s, gate: p.gate, clockWarned: &p.clockWarned}
	cacheDir := tokenCacheDir(s, &resp.Diagnostics)
	warnBaseURLPath(s.baseURL, &resp.Diagnostics, p.gate)
	if missing := s.missing(); missing == "" {
		client, err := faceki.NewClient(faceki.Config{
			BaseURL:        s.baseURL,
			ClientID:       s.clientID,
			ClientSecret:   s.clientSecret,
			TokenEndpoint:  faceki.TokenEndpoint(s.tokenEndpoint),
			MaxRetries:     s.maxRetries,
			RequestTimeout: s.requestTimeout,
			UserAgent:      userAgent(p.version, req.TerraformVersion),
			Logger:         logger{},
			Cache:          p.tokens,
			Gate:           p.gate,
			TokenCacheDir:  cacheDir,
		})
		if err != nil {
			addError(&resp.Diagnostics, err)
			return
		}
		if err := client.TokenCacheError(); err != nil {
			resp.Diagnostics.AddAttributeWarning(path.Root("token_cache_dir"), sumCacheDirNotUsed, fmt.Sprintf(
				"%s. Tokens are kept in memory only, as with token_cache = %q. Use a directory of your own that you can "+
					"write to and only you can (chmod 700), not a symlink, on a writable filesystem, or set "+
					"token_cache_dir (or %s) to one.", errText(err), tokenCacheMemory, EnvTokenCacheDir))
		}
		data.client = client
	}
	logger{}.Info(ctx, "FACEKI provider configured", map[string]any{
		"base_url": p.gate.Quote(s.baseURL), "client_id_set": s.clientID != "", "client_secret_set": s.clientSecret != "",
		"unknown": fmt.Sprint(s.unknown), "max_retries": s.maxRetries, "request_timeout": s.requestTimeout.String(),
		"token_cache": s.tokenCache, "token_cache_dir": p.gate.Quote(cacheDir),
	})
	resp.EphemeralResourceData = data
	resp.DataSourceData = data
}

// The rules of the attributes: each serves the attribute's validator, which
// the framework runs on the configuration, and resolve, which runs it on the
// environment. An error completes "it …".

func checkBaseURL(v string) error {
	_, err := faceki.ParseBaseURL(v)
	if cfgErr, ok := err.(*faceki.ConfigError); ok {
		return fmt.Errorf("%s", cfgErr.Msg)
	}
	return err
}

func checkTimeout(v string) error {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 || d > maxRequestTimeout {
		return fmt.Errorf("must be a duration such as \"30s\" or \"2m\", above zero and at most %s", maxRequestTimeout)
	}
	return nil
}

func checkRetries(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 0 || n > faceki.MaxMaxRetries {
		return fmt.Errorf("must be a whole number between 0 and %d", faceki.MaxMaxRetries)
	}
	return nil
}

// checkCacheDir refuses a relative path: a cache that moves with the
// working directory is no cache. "~" stands for the home directory.
func checkCacheDir(v string) error {
	if _, ok := underHome(v); ok || filepath.IsAbs(v) {
		return nil
	}
	return fmt.Errorf("must be an absolute path, or start with ~/ for the home directory: a relative path would move " +
		"with the working directory, and so would the cache")
}

func oneOf(values []string) func(string) error {
	return func(v string) error {
		if slices.Contains(values, v) {
			return nil
		}
		return fmt.Errorf("must be one of %q", values)
	}
}

// rule is a validator that applies check to a known value.
func rule(what string, check func(string) error) validator.String { return ruleValidator{what, check} }

type ruleValidator struct {
	what  string
	check func(string) error
}

func (r ruleValidator) Description(context.Context) string { return "must be " + r.what }

func (r ruleValidator) MarkdownDescription(ctx context.Context) string { return r.Description(ctx) }

func (r ruleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := r.check(req.ConfigValue.ValueString()); err != nil {
		name := req.Path.String()
		resp.Diagnostics.AddAttributeError(req.Path, fmt.Sprintf(sumInvalid, name),
			fmt.Sprintf("%s %s.", name, errText(err)))
	}
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

// underHome returns what follows "~" in a path that starts with the home
// directory: "~" alone, or "~" and a separator.
func underHome(dir string) (rest string, ok bool) {
	rest, ok = strings.CutPrefix(dir, "~")
	return rest, ok && (rest == "" || os.IsPathSeparator(rest[0]))
}

// expandCacheDir reads "~" at the start of a directory checkCacheDir took
// as the home directory.
func expandCacheDir(dir string) (string, error) {
	rest, ok := underHome(dir)
	if !ok {
		return dir, nil // absolute, or refused by checkCacheDir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return dir, fmt.Errorf("starts with ~, but there is no home directory to read it as")
	}
	return filepath.Join(home, rest), nil
}

// warnBaseURLPath says that a base_url with a path is unusual: FACEKI's API
// sits at the host's root. The path is kept, since a gateway may need it.
func warnBaseURLPath(baseURL string, diags *diag.Diagnostics, g *gate.Gate) {
	u, err := faceki.ParseBaseURL(baseURL)
	if baseURL == "" || err != nil || u.Path == "" {
		return
	}
	root := *u
	root.Path = ""
	diags.AddAttributeWarning(path.Root("base_url"), sumBaseURLPath, fmt.Sprintf("base_url is %q, with the path %q. "+
		"FACEKI's API sits at the host's root (%s), so requests go to %s/auth/api/access-token and the like. The path is "+
		"kept, since a gateway in front of FACEKI may need it; if FACEKI answers 404, remove it.",
		g.Quote(u.String()), g.Quote(u.Path), g.Quote(root.String()), g.Quote(u.String())))
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

func (p *FacekiProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *FacekiProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewKYCRulesDataSource, NewAccessTokenDataSource}
}

func (p *FacekiProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{NewAccessTokenEphemeralResource}
}

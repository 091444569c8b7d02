package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// ephemeralVersions skips on CLIs without ephemeral resources (Terraform
// < 1.10, OpenTofu < 1.11): see skipWithoutEphemeral.
var ephemeralVersions = []tfversion.TerraformVersionCheck{skipWithoutEphemeral{}}

// echoConfig echoes the whole faceki_access_token object into state, where
// the checks can see it (echo stores what it echoes, by design: tests only).
func echoConfig(providerBlock, tokenBlock string) string {
	return providerBlock + `
ephemeral "faceki_access_token" "test" {
` + tokenBlock + `
}

provider "echo" {
  data = ephemeral.faceki_access_token.test
}

resource "echo" "test" {}
`
}

func checkIssued(emu *emulator.Emulator, lifetime time.Duration, wantExpiry bool) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data"), issuedToken{emu: emu, lifetime: lifetime, wantExpiry: wantExpiry})
}

func TestAccAccessToken_fromEnvironment(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            echoConfig(`provider "faceki" {}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, time.Hour, true)},
		}},
	})
}

func TestAccAccessToken_fromProviderBlock(t *testing.T) {
	emu := startEmulator(t, emulator.Options{ExpiresIn: 20 * time.Minute})
	id, secret := emu.Credentials()
	clearEnv(t)
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			ConfigVariables: config.Variables{
				"id": config.StringVariable(id), "secret": config.StringVariable(secret), "url": config.StringVariable(emu.URL),
			},
			Config: echoConfig(`
variable "id" { type = string }
variable "secret" {
  type      = string
  sensitive = true
}
variable "url" { type = string }

provider "faceki" {
  client_id       = var.id
  client_secret   = var.secret
  base_url        = var.url
  max_retries     = 1
  request_timeout = "5s"
}`, `min_validity = "15m"`),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, 20*time.Minute, true)},
		}},
	})
}

func TestAccAccessToken_fromEphemeralVariable(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	_, secret := emu.Credentials()
	t.Setenv(EnvClientSecret, "")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			ConfigVariables: config.Variables{"secret": config.StringVariable(secret)},
			Config: echoConfig(`
variable "secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "faceki" {
  client_secret = var.secret
}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, time.Hour, true)},
		}},
	})
}

func TestAccAccessToken_expiryFromJWT(t *testing.T) {
	emu := startEmulator(t, emulator.Options{OmitExpiresIn: true, ExpiresIn: 30 * time.Minute})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            echoConfig(`provider "faceki" {}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, 30*time.Minute, true)},
		}},
	})
}

func TestAccAccessToken_noExpiry(t *testing.T) {
	emu := startEmulator(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            echoConfig(`provider "faceki" {}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, 0, false)},
		}},
	})
}

func TestAccAccessToken_missingCredentials(t *testing.T) {
	clearEnv(t)
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      echoConfig(`provider "faceki" {}`, ""),
				ExpectError: regexp.MustCompile(`(?s)Missing FACEKI client_id.*FACEKI_CLIENT_ID`),
			},
			{
				Config:      echoConfig(`provider "faceki" { client_id = "someone" }`, ""),
				ExpectError: regexp.MustCompile(`(?s)Missing FACEKI client_secret.*FACEKI_CLIENT_SECRET`),
			},
		},
	})
}

func TestAccAccessToken_unknownCredentials(t *testing.T) {
	startEmulator(t, emulator.Options{})
	t.Setenv(EnvClientID, "")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: echoConfig(`
resource "terraform_data" "id" {
  input = "test-client-id"
}

provider "faceki" {
  client_id = terraform_data.id.output
}`, ""),
			ExpectError: regexp.MustCompile(`(?s)client_id is not known yet.*FACEKI_CLIENT_ID`),
		}},
	})
}

func TestAccAccessToken_wrongCredentials(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	t.Setenv(EnvClientSecret, "not-the-secret")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      echoConfig(`provider "faceki" {}`, ""),
			ExpectError: regexp.MustCompile(`(?s)FACEKI rejected the client credentials.*HTTP 401.*Invalid client\s+credentials.*FACEKI_CLIENT_SECRET`),
		}},
	})
	if n := emu.TokenRequests(); n != 1 {
		t.Errorf("a 401 was retried: %d token requests, want 1", n)
	}
}

func TestAccAccessToken_minValidityLongerThanLifetime(t *testing.T) {
	startEmulator(t, emulator.Options{ExpiresIn: 10 * time.Minute})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      echoConfig(`provider "faceki" {}`, `min_validity = "1h"`),
			ExpectError: regexp.MustCompile(`(?s)lives shorter than min_validity.*less than the 1h0m0s`),
		}},
	})
}

func TestAccAccessToken_invalidArguments(t *testing.T) {
	startEmulator(t, emulator.Options{})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      echoConfig(`provider "faceki" { base_url = "http://faceki.example.com" }`, ""),
				ExpectError: regexp.MustCompile(`(?s)Invalid base_url.*requires\s+https://`),
			},
			{
				Config:      echoConfig(`provider "faceki" { request_timeout = "soon" }`, ""),
				ExpectError: regexp.MustCompile(`(?s)Invalid request_timeout.*must\s+be\s+a\s+duration`),
			},
			{
				Config:      echoConfig(`provider "faceki" { max_retries = 99 }`, ""),
				ExpectError: regexp.MustCompile(`(?s)max_retries.*between\s+0\s+and\s+10`),
			},
			{
				Config:      echoConfig(`provider "faceki" {}`, `min_validity = "five minutes"`),
				ExpectError: regexp.MustCompile(`(?s)Invalid min_validity.*must\s+be\s+a\s+duration`),
			},
		},
	})
}

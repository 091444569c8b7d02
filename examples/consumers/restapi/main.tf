# Configures the Mastercard/restapi provider with the FACEKI token, so that
# its restapi_object resources and data sources call FACEKI's
# bearer-protected API (add the ones your calls need; make test runs a GET of
# the KYC rules this way, in internal/provider/consumer_restapi_test.go).
# Provider configurations accept ephemeral values (Terraform >= 1.10,
# OpenTofu >= 1.11), so the token configures the provider without being
# written to the plan or state.
#
# restapi 3.x logs its headers, the token among them, at DEBUG when the
# provider is configured (and every request with debug = true): the
# consumers guide says how to debug without it.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    restapi = {
      source  = "Mastercard/restapi"
      version = ">= 3.0.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET

ephemeral "faceki_access_token" "this" {
  # Long enough for every restapi request of the run.
  min_validity = "30m"
}

# restapi 3.0.0 and later: bearer_token (sensitive) sets
# "Authorization: Bearer <token>" on every request.
provider "restapi" {
  uri                  = "https://sdk.faceki.com"
  bearer_token         = ephemeral.faceki_access_token.this.access_token
  write_returns_object = true
}

# Any restapi release (before 3.0.0 there is no bearer_token): the same
# header through headers.
provider "restapi" {
  alias = "headers"
  uri   = "https://sdk.faceki.com"
  headers = {
    Authorization  = "Bearer ${ephemeral.faceki_access_token.this.access_token}"
    "Content-Type" = "application/json"
  }
  write_returns_object = true
}

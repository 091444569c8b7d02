terraform {
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

# Credentials from the environment: FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET
# (and optionally FACEKI_BASE_URL, FACEKI_MAX_RETRIES, FACEKI_REQUEST_TIMEOUT,
# FACEKI_TOKEN_ENDPOINT, FACEKI_TOKEN_CACHE, FACEKI_TOKEN_CACHE_DIR). Nothing
# secret is written in the configuration.
provider "faceki" {}

# Or from ephemeral input variables: their values are never written to the
# plan or state, and must be given again on every run (-var or TF_VAR_*).
variable "faceki_client_id" {
  type = string
}

variable "faceki_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "faceki" {
  alias         = "explicit"
  client_id     = var.faceki_client_id
  client_secret = var.faceki_client_secret

  # Send the secret in a JSON body rather than in the token URL's query
  # string, where your FACEKI account supports it.
  token_endpoint = "generate-token"

  # Retry connection errors, HTTP 429 and 5xx twice; each attempt may take
  # up to 20 seconds.
  max_retries     = 2
  request_timeout = "20s"

  # Keep the token in a sealed file shared by every run on this machine:
  # one token request per token lifetime instead of two per apply.
  token_cache = "file"
}

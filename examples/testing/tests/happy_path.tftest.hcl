# The module against the FACEKI emulator, on the happy path: the emulator's
# own client (FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET, the credentials it
# was started with; FACEKI_BASE_URL points at it). One emulator serves every
# test file here, each picking its scenario by the client ID it uses:
#
#   faceki-emulator -listen 127.0.0.1:0 -expires-in 15m -client flaky=503 -client 'down=503*'
#
# Mocks cannot stand in for faceki_access_token yet: see
# docs/guides/testing-modules.md. Assertions cannot read ephemeral values such
# as the token; they read what the token was used for. A check block that
# fails makes its run fail too, unless the run lists it in expect_failures.

run "apply" {
  command = apply

  assert {
    condition     = data.faceki_kyc_rules.this.status == "ACTIVE"
    error_message = "The emulator's KYC rules are not ACTIVE."
  }

  assert {
    condition     = contains(data.faceki_kyc_rules.this.allowed_kyc_documents, "Passport")
    error_message = "The KYC rules do not list Passport."
  }

  assert {
    condition     = data.faceki_kyc_rules.this.valid_age == 18 && data.faceki_kyc_rules.this.liveness_check_type == "MODERATE"
    error_message = "The KYC rules' minimum age or liveness check differ from the emulator's defaults."
  }

  # The pipeline step's effect, read after the apply: this very step
  # (not an earlier run) called FACEKI with the token and got the rules.
  assert {
    condition     = jsondecode(file(output.result_file)).written_by == terraform_data.pipeline_step.id
    error_message = "The pipeline step of this run did not write ${output.result_file}."
  }

  assert {
    condition     = jsondecode(file(output.result_file)).kyc_rules.data.companyId == data.faceki_kyc_rules.this.company_id
    error_message = "The pipeline step did not get the company's KYC rules with the token."
  }

  assert {
    condition     = timecmp(jsondecode(file(output.result_file)).token_expires_at, timeadd(plantimestamp(), "10m")) > 0
    error_message = "The token handed to the pipeline step had less than min_validity (10m) left."
  }
}

# An account that lacks a required document: check.kyc_rules fails (a
# warning in a real run), and this run expects exactly that.
run "check_fails_without_required_document" {
  command = apply

  variables {
    required_documents = ["Passport", "Driving License"]
  }

  expect_failures = [check.kyc_rules]

  assert {
    condition     = output.missing_documents == tolist(["Driving License"])
    error_message = "missing_documents = ${jsonencode(output.missing_documents)}, want [\"Driving License\"]."
  }
}

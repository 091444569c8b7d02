# FACEKI, or a gateway in front of it, fails once: the emulator answers the
# first token request of client "flaky" with a 503 (-client flaky=503), and
# the provider's retries absorb it. The run must go as if nothing happened;
# the emulator's request log shows the 503 and the retry.

provider "faceki" {
  alias     = "flaky"
  client_id = "flaky" # the emulator's scenario; the secret is FACEKI_CLIENT_SECRET
}

run "one_503_is_retried" {
  command = apply

  providers = {
    faceki = faceki.flaky
  }

  variables {
    result_file = "flaky-result.json"
  }

  assert {
    condition     = output.company_id == "flaky"
    error_message = "The KYC rules were not read with a token of client flaky: company_id = ${output.company_id}."
  }

  assert {
    condition     = jsondecode(file(output.result_file)).written_by == terraform_data.pipeline_step.id
    error_message = "The pipeline step of this run did not write ${output.result_file}."
  }

  assert {
    condition     = jsondecode(file(output.result_file)).kyc_rules.data.companyId == "flaky"
    error_message = "The pipeline step did not call FACEKI with a token of client flaky."
  }
}

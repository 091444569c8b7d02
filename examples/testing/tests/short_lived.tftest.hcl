# Tokens that live a quarter of an hour (the emulator's -expires-in 15m), as
# an account with short-lived tokens has, and a module that asks for 14
# minutes left: the token handed to the pipeline step must have them, and
# come from this short life, not FACEKI's usual hour. (Asking for more than
# the token lives fails the run in the provider: see failures.sh.)

run "min_validity_within_a_short_life" {
  command = apply

  variables {
    min_validity = "14m"
    result_file  = "short-lived-result.json"
  }

  assert {
    condition     = timecmp(jsondecode(file(output.result_file)).token_expires_at, timeadd(plantimestamp(), "14m")) > 0
    error_message = "The token handed to the pipeline step had less than min_validity (14m) left."
  }

  # The apply walk fetches its token a moment after the plan: a minute of margin.
  assert {
    condition     = timecmp(jsondecode(file(output.result_file)).token_expires_at, timeadd(plantimestamp(), "16m")) < 0
    error_message = "The token handed to the pipeline step lives longer than the emulator's 15 minutes."
  }
}

# A min_validity longer than FACEKI's tokens live (the emulator's -expires-in
# 15m): the provider fails the run at once, naming the life tokens have. Run
# by tests/failures.sh.

run "min_validity_too_long" {
  command = apply

  variables {
    min_validity = "20m"
    result_file  = "too-short-result.json"
  }
}

package provider

import (
	"os"
	"testing"
)

// TestQuietUnlessShown: the provider's and the SDK's log levels are set OFF
// exactly when the CLI shows no provider log lines (TF_LOG_PROVIDER, else
// TF_LOG, empty or OFF), and a level set for either is never replaced.
func TestQuietUnlessShown(t *testing.T) {
	const unset = "<unset>"
	for _, tc := range []struct {
		name                        string
		log, logProvider, this, sdk string
		wantThis, wantSDK           string
	}{
		{"nothing set", unset, unset, unset, unset, "OFF", "OFF"},
		{"TF_LOG empty", "", unset, unset, unset, "OFF", "OFF"},
		{"TF_LOG off", "off", unset, unset, unset, "OFF", "OFF"},
		{"TF_LOG trace", "trace", unset, unset, unset, unset, unset},
		{"TF_LOG json", "JSON", unset, unset, unset, unset, unset},
		{"TF_LOG_PROVIDER debug", unset, "debug", unset, unset, unset, unset},
		{"TF_LOG_PROVIDER over TF_LOG", "trace", "off", unset, unset, "OFF", "OFF"},
		{"TF_LOG_PROVIDER debug over TF_LOG off", "off", "debug", unset, unset, unset, unset},
		{"levels of its own kept", unset, unset, "debug", "trace", "debug", "trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for env, v := range map[string]string{envLog: tc.log, envLogProvider: tc.logProvider, envLogThis: tc.this, envLogSDK: tc.sdk} {
				t.Setenv(env, v) // restored after the test
				if v == unset {
					_ = os.Unsetenv(env)
				}
			}
			QuietUnlessShown()
			for env, want := range map[string]string{envLogThis: tc.wantThis, envLogSDK: tc.wantSDK} {
				got, set := os.LookupEnv(env)
				if !set {
					got = unset
				}
				if got != want {
					t.Errorf("%s = %q, want %q", env, got, want)
				}
			}
		})
	}
}

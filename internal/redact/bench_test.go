package redact

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// benchToken is a token of the shape FACEKI's emulator issues: an RS256 JWT
// header, the claims it mints, and a 256-byte signature.
func benchToken(rng *rand.Rand) string {
	raw := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"sub": "emulator-client-id", "client_id": "emulator-client-id", "token_use": "access", "scope": "kyc/all",
		"iss": "faceki-emulator", "iat": 1796000000, "exp": 1796003600, "jti": b64(raw(16)),
	})
	return b64(header) + "." + b64(claims) + "." + b64(raw(256))
}

// BenchmarkRedact1MiB is the redactor on a 1 MiB error body, the most the
// client reads of an answer (it redacts a body whole before quoting it). The
// redactor knows a secret and two tokens, as a provider process that has
// fetched twice does (tokens of the emulator's shape).
//
//   - html: a gateway's error page, with links, character references and
//     percent escapes, and no secret;
//   - html-echo: the same page quoting the request URI, percent-encoded
//     again (the secret as %252B…), every 64 KiB;
//   - json: a JSON document with \u escapes, no secret;
//   - escapes: nothing but nested escapes (%25, &#37;, \u0025), the worst
//     case for the decoder.
func BenchmarkRedact1MiB(b *testing.B) {
	const secret = "Tf9+k/Qz=8&Lm%2F w4 Rx"
	const id = "emulator-client-id"
	rd := New()
	rd.AddSecret(secret)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2 {
		rd.AddToken(strings.SplitN(benchToken(rng), ".", 2)[1]) // payload and signature, as the client registers them
	}
	fill := func(unit string) string {
		return strings.Repeat(unit, (1<<20)/len(unit)+1)[:1<<20]
	}
	page := `<li><a href="/docs/api%2Fv2?lang=en&amp;q=kyc%20rules">KYC rules &mdash; &#8220;V2&#8221;</a> (updated 2026&#x2011;11)</li>` + "\n"
	uri := "/auth/api/access-token?" + url.Values{"clientId": {id}, "clientSecret": {secret}}.Encode()
	echo := `<p>Session expired: <a href="/login?returnUrl=` + url.QueryEscape(uri) + `">sign in</a></p>` + "\n"
	bodies := []struct{ name, body string }{
		{"html", fill(page)},
		{"html-echo", fill(strings.Repeat(page, (64<<10)/len(page)) + echo)},
		{"json", fill(`{"id":"64a0c0ffee","name":"Caf\u00e9 \u201cKYC\u201d","path":"\/kycrules\/api"},`)},
		{"escapes", fill(`%25&#37;\u0025`)},
	}
	for _, c := range bodies {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			var out string
			for b.Loop() {
				out = rd.Redact(c.body)
			}
			b.ReportMetric(float64(strings.Count(out, Redacted)), "redactions")
		})
	}
}

// BenchmarkRedactorSetup is what a provider process pays for its redactor
// before the first redaction: a secret, a token of the emulator's shape, and
// one short string redacted (an ephemeral result's expires_at), which builds
// the matcher. With a secret in FACEKI's shape (lower-case letters and
// digits), and with the tests' secret, whose own text holds an escape.
func BenchmarkRedactorSetup(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	token := strings.SplitN(benchToken(rng), ".", 2)[1]
	for _, secret := range []struct{ name, s string }{
		{"faceki-secret", "00nl0cuq780ur007spqspa94kq6rkn1fap1e0kdre7gdl97lvspk"},
		{"escaping-secret", "Tf9+k/Qz=8&Lm%2F w4 Rx"},
	} {
		b.Run(secret.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd := New()
				rd.AddSecret(secret.s)
				rd.AddPublic("0NTS4CBV8MVII02VGVSPICB00")
				rd.AddToken(token)
				if rd.Redact("2026-12-01T22:53:54Z") != "2026-12-01T22:53:54Z" {
					b.Fatal("redacted a timestamp")
				}
			}
		})
	}
}

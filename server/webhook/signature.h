// The signature on every webhook delivery, and its check:
//
//   Sima-Signature:
//   t=1764650000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// v1 is the lowercase hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's whole
// secret ("whsec_..." as bytes). While a rotated secret still signs, a second v1 made with it
// follows, so a receiver holding either secret accepts. docs/webhooks.md "Verifying signatures"
// is the receiver's side of this; the npm package's verifyWebhook is the same check in JS.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "sima/time.h"

namespace sima::server::webhook {

inline constexpr std::string_view kSignatureHeader = "Sima-Signature";
// A receiver's default window for |now - t|: a captured delivery replayed later is refused.
inline constexpr std::chrono::seconds kDefaultTolerance{300};

// "t=<unix seconds of t>,v1=<hex>[,v1=<hex>...]", one v1 per secret in the order given.
// REQUIRES: at least one secret.
std::string SignatureHeader(const std::vector<std::string>& secrets, Time t, std::string_view body);

enum class Verdict {
  kValid,
  kMalformed,      // no t=, a t that is not a number, or no v1=
  kOutsideWindow,  // |now - t| > tolerance (replayed, or a clock far off)
  kNoMatch,        // no v1 is the HMAC of this body and t under any of `secrets`
};
std::string_view to_string(Verdict verdict);  // "valid", "malformed", ...

// Whether `header` signs `body` with one of `secrets` at a time within `tolerance` of `now`.
// Each v1 is compared in constant time; unknown keys (v0=, v2=...) are ignored, so a later
// scheme can be added beside v1 without breaking receivers.
Verdict VerifySignature(std::string_view header, std::string_view body,
                        const std::vector<std::string>& secrets, Time now,
                        std::chrono::seconds tolerance = kDefaultTolerance);

}  // namespace sima::server::webhook

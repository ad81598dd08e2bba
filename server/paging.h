// List paging on the wire: ?limit= and ?cursor= in, "next_cursor" out.
//
// A cursor is opaque to clients: base64url (no padding) of "v1:<at>:<row>", the keyset position
// of the last item of the previous page (store.h PageKey). It stays valid while items are
// added, and a page only ever lists items older than it, so a walk sees each item once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http.h"
#include "store.h"

namespace sima::server {

inline constexpr int64_t kDefaultPageSize = 100;
inline constexpr int64_t kMaxPageSize = 1000;

std::string EncodeCursor(const PageKey& key);
// nullopt when `text` is not a cursor this server made.
std::optional<PageKey> DecodeCursor(std::string_view text);

// ?limit= (1..1000, default 100) and ?cursor=; validation_error naming "limit" or "cursor".
Expected<PageRequest> ReadPageRequest(const Call& call);

// {"items": items, "next_cursor": "<cursor>" | null}.
Json PageBody(Json items, const std::optional<PageKey>& next);

}  // namespace sima::server

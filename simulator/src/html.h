// The look of the hosted pages: one self-contained HTML document per page
// (inline CSS, no scripts, no external resources).
#pragma once

#include <string>
#include <string_view>

#include "sima/text.h"

namespace sima::simulator {

enum class Brand { kKhalti, kEsewa, kSimulator };

// HtmlEscape (sima/text.h) escapes text and attribute values for these pages.
using sima::HtmlEscape;

// A full page: brand bar, a card titled title holding body_html (markup the
// caller has already escaped), and the "simulator, in-memory" footer.
std::string RenderPage(Brand brand, std::string_view title, std::string_view body_html);

}  // namespace sima::simulator

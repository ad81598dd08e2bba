#include "html.h"

namespace sima::simulator {

namespace {

constexpr std::string_view kCss = R"css(
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;background:#f3f3f6;color:#1f1f29}
.bar{background:var(--brand);color:#fff;padding:14px 20px;font-weight:700;font-size:1.1rem}
.bar span{font-weight:400;opacity:.9;margin-left:8px;font-size:.85rem}
main{max-width:460px;margin:24px auto;padding:0 14px}
.card{background:#fff;border-radius:14px;box-shadow:0 1px 3px rgba(0,0,0,.08),0 10px 28px rgba(0,0,0,.06);padding:22px}
h1{font-size:1.25rem;margin:0 0 14px}
p{margin:0 0 12px}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:0 0 18px;padding:0 0 16px;border-bottom:1px solid #ececf2}
dt{color:#5a5a6a}
dd{margin:0;text-align:right;font-weight:600;overflow-wrap:anywhere}
dd.amount{font-size:1.35rem;color:var(--brand)}
label{display:block;font-weight:600;margin:14px 0 4px}
input{width:100%;padding:11px 12px;border:1px solid #c4c4d0;border-radius:9px;font:inherit;background:#fff;color:inherit}
input:focus{outline:3px solid var(--ring);outline-offset:1px;border-color:var(--brand)}
.actions{display:flex;gap:12px;margin-top:22px;flex-wrap:wrap}
button{flex:1 1 160px;padding:12px 14px;border-radius:9px;font:inherit;font-weight:700;cursor:pointer;border:2px solid var(--brand)}
button:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
.primary{background:var(--brand);color:#fff}
.secondary{background:#fff;color:var(--brand)}
.error{background:#fdeeee;color:#8c1d1d;border:1px solid #f3c4c4;border-radius:9px;padding:10px 12px;margin:0 0 14px}
.ok{background:#edf8ee;color:#1d5e27;border:1px solid #bfe3c4;border-radius:9px;padding:10px 12px;margin:0 0 14px}
.hint{background:#f6f3fb;border:1px dashed #bdb3cf;border-radius:9px;padding:9px 12px;font-size:.9rem;margin:0 0 6px}
.hint code{font-weight:700}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
a{color:var(--brand)}
.note{color:#5a5a6a;font-size:.85rem;margin:16px 0 0}
footer{color:#5f5f6e;font-size:.82rem;text-align:center;margin:18px 0 30px}
)css";

struct BrandStyle {
  const char* name;
  const char* tagline;
  const char* color;
  const char* ring;
};

BrandStyle StyleOf(Brand brand) {
  switch (brand) {
    case Brand::kKhalti: return {"Khalti", "ePayment sandbox (simulated)", "#5c2d91", "#cdb6ea"};
    case Brand::kEsewa: return {"eSewa", "ePay v2 test (simulated)", "#2e7d1f", "#b9e0ae"};
    case Brand::kSimulator: return {"sima gateway simulator", "", "#33415c", "#c2cbe0"};
  }
  return {"", "", "#333", "#ccc"};
}

}  // namespace

std::string RenderPage(Brand brand, std::string_view title, std::string_view body_html) {
  const BrandStyle s = StyleOf(brand);
  std::string out;
  out += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n";
  out += "<title>" + HtmlEscape(title) + " · " + s.name + "</title>\n<style>";
  out += ":root{--brand:" + std::string(s.color) + ";--ring:" + s.ring + "}";
  out += kCss;
  out += "</style>\n</head>\n<body>\n<header class=\"bar\">";
  out += s.name;
  if (*s.tagline) out += std::string("<span>") + s.tagline + "</span>";
  out += "</header>\n<main>\n<div class=\"card\">\n<h1>" + HtmlEscape(title) + "</h1>\n";
  out += body_html;
  out +=
      "\n</div>\n<footer>sima gateway simulator: not a real gateway, no money moves. "
      "All state is kept in memory only and is lost on restart.</footer>\n</main>\n</body>\n"
      "</html>\n";
  return out;
}

}  // namespace sima::simulator

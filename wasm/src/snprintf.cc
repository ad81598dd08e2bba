// A small snprintf and siprintf (the compiler's name for a sprintf without floating point) for
// the browser build only, linked instead of musl's: in this build the only callers format whole
// numbers and addresses (sima::FormatTime's "%04d-%02u-%02uT%02d:%02d:%02dZ", nlohmann/json's
// "<U+%.4X>" for a control character in a parse error it builds, embind's "%p" type names).
// musl's printf brings its floating-point formatter along: 2.8 KiB gz of the package. Supported:
// the flags '-' and '0', a width, a precision, the length modifiers h, hh, l, ll, z, j, t, and the
// conversions d i u x X p c s %; anything else is written as it stands.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace {

// Appends to a buffer of `size` bytes, counting what would have been written (C's rule).
struct Out {
  char* buf;
  size_t size;
  size_t n = 0;
  void put(char c) {
    if (n + 1 < size) buf[n] = c;
    ++n;
  }
  void pad(char c, int count) {
    for (; count > 0; --count) put(c);
  }
};

enum class Length { kInt, kLong, kLongLong };

int Format(char* buf, size_t size, const char* fmt, va_list args) {
  Out out{buf, size};
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    const char* start = p++;
    bool left = false;
    bool zero = false;
    for (;; ++p) {
      if (*p == '-') {
        left = true;
      } else if (*p == '0') {
        zero = true;
      } else {
        break;
      }
    }
    int width = 0;
    for (; *p >= '0' && *p <= '9'; ++p) width = width * 10 + (*p - '0');
    int precision = -1;
    if (*p == '.') {
      precision = 0;
      for (++p; *p >= '0' && *p <= '9'; ++p) precision = precision * 10 + (*p - '0');
    }
    Length length = Length::kInt;
    for (;; ++p) {
      if (*p == 'h') continue;
      if (*p == 'l') {
        length = length == Length::kInt ? Length::kLong : Length::kLongLong;
      } else if (*p == 'z' || *p == 'j' || *p == 't') {
        length = Length::kLongLong;
      } else {
        break;
      }
    }
    char digits[24];
    int count = 0;
    bool negative = false;
    const char* text = nullptr;
    switch (*p) {
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'p': {
        const bool is_signed = *p == 'd' || *p == 'i';
        uint64_t v = 0;
        if (is_signed) {
          const int64_t s = length == Length::kInt    ? va_arg(args, int)
                            : length == Length::kLong ? va_arg(args, long)
                                                      : va_arg(args, long long);
          negative = s < 0;
          v = negative ? 0 - static_cast<uint64_t>(s) : static_cast<uint64_t>(s);
        } else if (*p == 'p') {
          v = reinterpret_cast<uintptr_t>(va_arg(args, void*));
        } else {
          v = length == Length::kInt    ? va_arg(args, unsigned)
              : length == Length::kLong ? va_arg(args, unsigned long)
                                        : va_arg(args, unsigned long long);
        }
        const unsigned base = (*p == 'x' || *p == 'X' || *p == 'p') ? 16 : 10;
        const char* alphabet = *p == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        do {
          digits[count++] = alphabet[v % base];
          v /= base;
        } while (v != 0);
        if (*p == 'p') {
          digits[count++] = 'x';
          digits[count++] = '0';
        }
        break;
      }
      case 'c': digits[count++] = static_cast<char>(va_arg(args, int)); break;
      case 's':
        text = va_arg(args, const char*);
        if (text == nullptr) text = "(null)";
        break;
      case '%': out.put('%'); continue;
      default:  // not supported: written as it stands
        for (const char* q = start; q <= p && *q != '\0'; ++q) out.put(*q);
        if (*p == '\0') --p;
        continue;
    }
    if (text != nullptr) {
      int len = 0;
      while (text[len] != '\0' && (precision < 0 || len < precision)) ++len;
      if (!left) out.pad(' ', width - len);
      for (int i = 0; i < len; ++i) out.put(text[i]);
      if (left) out.pad(' ', width - len);
      continue;
    }
    const bool number = *p != 'c';
    const int zeros = number && precision > count ? precision - count : 0;
    const int body = count + zeros + (negative ? 1 : 0);
    const bool zero_pad = zero && !left && precision < 0 && number;
    if (!left && !zero_pad) out.pad(' ', width - body);
    if (negative) out.put('-');
    if (zero_pad) out.pad('0', width - body);
    out.pad('0', zeros);
    while (count > 0) out.put(digits[--count]);
    if (left) out.pad(' ', width - body);
  }
  if (size > 0) buf[out.n < size ? out.n : size - 1] = '\0';
  return static_cast<int>(out.n);
}

}  // namespace

extern "C" int snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const int n = Format(buf, size, fmt, args);
  va_end(args);
  return n;
}

extern "C" int siprintf(char* buf, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const int n = Format(buf, SIZE_MAX, fmt, args);
  va_end(args);
  return n;
}

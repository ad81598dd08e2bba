#include "mail/mailer.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace sima::server {
namespace {

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}

// RFC 2047 encoded words for UTF-8 `text`: "=?UTF-8?B?...?=" words of at most 75 characters
// (45 bytes of text each, never splitting a character), folded onto continuation lines.
std::string EncodedWords(const std::string& text) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = std::min(text.size(), at + 45);
    // Back up to a character's first byte (not a 10xxxxxx continuation byte).
    while (end < text.size() && end > at + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(text.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

// A mailbox for a header: "Name <a@b>" with a non-ASCII name encoded, else as given.
std::string MailboxHeader(const std::string& mailbox) {
  const auto open = mailbox.find('<');
  if (open == std::string::npos || IsAscii(mailbox)) return mailbox;
  std::string name = mailbox.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return EncodedWords(name) + " " + mailbox.substr(open);
}

// Whether a body can go as 7bit: ASCII, and no line longer than SMTP's 998 bytes.
bool Is7Bit(const std::string& body) {
  size_t line = 0;
  for (unsigned char c : body) {
    if (c >= 0x80 || c == 0) return false;
    line = c == '\n' ? 0 : line + 1;
    if (line > 998) return false;
  }
  return true;
}

// Base64 in lines of 76 characters, CRLF-terminated.
std::string Base64Lines(const std::string& in) {
  const std::string all = Base64(in);
  std::string out;
  for (size_t at = 0; at < all.size(); at += 76) out += all.substr(at, 76) + "\r\n";
  return out;
}

// Header values never carry line breaks (no header injection through a name or subject).
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

std::string DateHeader(Time t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string Domain(const std::string& address) {
  const auto at = address.rfind('@');
  std::string d = at == std::string::npos ? "sima.local" : address.substr(at + 1);
  while (!d.empty() && (d.back() == '>' || d.back() == ' ')) d.pop_back();
  return d.empty() ? "sima.local" : d;
}

// The bare address inside "Name <a@b>", for the SMTP envelope.
std::string Address(const std::string& mailbox) {
  const auto open = mailbox.find('<');
  const auto close = mailbox.find('>', open);
  if (open != std::string::npos && close != std::string::npos) {
    return mailbox.substr(open + 1, close - open - 1);
  }
  return mailbox;
}

// "<a@b>" for the SMTP envelope (built by appending: GCC 12 -O3 warns on "<" + s + ">").
std::string AngleAddress(const std::string& mailbox) {
  std::string out(1, '<');
  out += Address(mailbox);
  out += '>';
  return out;
}

class FolderMailer final : public Mailer {
 public:
  explicit FolderMailer(std::string folder) : folder_(std::move(folder)) {}
  ExpectedDone Send(const Email& email) override {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) return Error::Internal("cannot create mail folder " + folder_ + ": " + ec.message());
    const auto final_path = std::filesystem::path(folder_) / (email.id + ".eml");
    const auto temp_path = std::filesystem::path(folder_) / ("." + email.id + ".tmp");
    {
      std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
      out << RenderMessage(email);
      if (!out.flush()) return Error::Internal("cannot write " + temp_path.string());
    }
    std::filesystem::rename(temp_path, final_path, ec);
    if (ec) return Error::Internal("cannot write " + final_path.string() + ": " + ec.message());
    return Done{};
  }

 private:
  std::string folder_;
};

struct Upload {
  const std::string* text;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, up->text->size() - up->offset);
  std::memcpy(buffer, up->text->data() + up->offset, n);
  up->offset += n;
  return n;
}

class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(std::string url, SmtpSecurity security)
      : url_(std::move(url)), security_(std::move(security)) {
    static const bool once = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)once;
  }
  ExpectedDone Send(const Email& email) override {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return Error::Internal("libcurl could not start");
    const std::string text = RenderMessage(email);
    Upload upload{&text};
    const std::string from = AngleAddress(email.from);
    const std::string to = AngleAddress(email.to);
    curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    // smtp:// starts in plain text and upgrades with STARTTLS as SMTP_STARTTLS says; with
    // "required" a server that does not offer it gets nothing (not even the password).
    const long use_ssl = security_.starttls == "required" ? CURLUSESSL_ALL
                         : security_.starttls == "off"    ? CURLUSESSL_NONE
                                                          : CURLUSESSL_TRY;
    curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
    if (!security_.ca_file.empty())
      curl_easy_setopt(curl, CURLOPT_CAINFO, security_.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    // curl_easy_strerror never includes the URL, so credentials in SMTP_URL stay out of logs.
    if (rc != CURLE_OK) return Error::Unavailable(std::string("SMTP: ") + curl_easy_strerror(rc));
    return Done{};
  }

 private:
  std::string url_;
  SmtpSecurity security_;
};

}  // namespace

std::string RenderMessage(const Email& e) {
  const std::string subject = IsAscii(e.subject) ? e.subject : EncodedWords(OneLine(e.subject));
  std::string body;
  for (size_t i = 0; i < e.body.size(); ++i) {  // normalise line ends to CRLF
    if (e.body[i] == '\n' && (i == 0 || e.body[i - 1] != '\r')) body += '\r';
    body += e.body[i];
  }
  const bool plain = Is7Bit(body);
  std::string m;
  m += "Message-ID: <" + OneLine(e.id) + "@" + Domain(e.from) + ">\r\n";
  m += "Date: " + DateHeader(e.created_at) + "\r\n";
  m += "From: " + MailboxHeader(OneLine(e.from)) + "\r\n";
  m += "To: " + MailboxHeader(OneLine(e.to)) + "\r\n";
  m += "Subject: " + subject + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  if (plain) {
    m += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    m += body;
  } else {
    m += "Content-Transfer-Encoding: base64\r\n\r\n";
    m += Base64Lines(body);
  }
  if (m.size() < 2 || m.substr(m.size() - 2) != "\r\n") m += "\r\n";
  return m;
}

std::unique_ptr<Mailer> MakeSmtpMailer(std::string smtp_url, SmtpSecurity security) {
  return std::make_unique<SmtpMailer>(std::move(smtp_url), std::move(security));
}

std::unique_ptr<Mailer> MakeFolderMailer(std::string folder) {
  return std::make_unique<FolderMailer>(std::move(folder));
}

}  // namespace sima::server

// Sending one e-mail. The outbox (store) decides what to send and retries; a Mailer only
// delivers: over SMTP with libcurl when SMTP_URL is set, else as .eml files in a folder.
#pragma once

#include <memory>
#include <string>

#include "error.h"
#include "sima/time.h"

namespace sima::server {

struct Email {
  std::string id;  // unique, stable across retries: becomes the Message-ID and the file name
  std::string from;
  std::string to;
  std::string subject;
  std::string body;  // plain text, UTF-8
  Time created_at{};
};

// The RFC 5322 text of `email` (CRLF line ends, UTF-8 subject encoded per RFC 2047).
std::string RenderMessage(const Email& email);

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Delivers `email`. An error leaves it to the caller to retry later: kUnavailable when the
  // mail server cannot be reached or refuses, kInternal when a file cannot be written.
  // Delivering the same email twice must be harmless for the reader (same Message-ID).
  virtual ExpectedDone Send(const Email& email) = 0;
};

// SMTP through libcurl: `smtp_url` like "smtp://mail.example.com:587" or "smtps://user:pass@host".
std::unique_ptr<Mailer> MakeSmtpMailer(std::string smtp_url);
// Writes <folder>/<id>.eml atomically (temp file + rename); creates the folder.
std::unique_ptr<Mailer> MakeFolderMailer(std::string folder);

}  // namespace sima::server

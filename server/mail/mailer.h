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

// The RFC 5322 text of `email`: CRLF line ends; non-ASCII in the subject and in display names
// encoded per RFC 2047 (UTF-8, in words a line can hold); the body 7bit when it is ASCII in
// lines of at most 998 bytes, else base64 (UTF-8 text and long lines arrive unchanged through
// any relay).
std::string RenderMessage(const Email& email);

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Delivers `email`. An error leaves it to the caller to retry later: kUnavailable when the
  // mail server cannot be reached or refuses, kInternal when a file cannot be written.
  // Delivering the same email twice must be harmless for the reader (same Message-ID).
  virtual ExpectedDone Send(const Email& email) = 0;
};

// How an SMTP mailer secures its connection besides the URL's scheme.
struct SmtpSecurity {
  // STARTTLS on an smtp:// server (SMTP_STARTTLS): "try" upgrades when the server offers it,
  // "required" fails the send when it does not (the outbox retries), "off" never asks.
  // smtps:// is TLS from the first byte whatever this says.
  std::string starttls = "try";
  // CA certificates (PEM file) to verify the server's certificate with; empty = the system's.
  std::string ca_file = {};
};

// SMTP through libcurl: `smtp_url` like "smtp://mail.example.com:587" or
// "smtps://user:pass@host" (user and password, percent-encoded, log in with AUTH).
std::unique_ptr<Mailer> MakeSmtpMailer(std::string smtp_url, SmtpSecurity security = {});
// Writes <folder>/<id>.eml atomically (temp file + rename); creates the folder.
std::unique_ptr<Mailer> MakeFolderMailer(std::string folder);

}  // namespace sima::server

// sima-server: configuration from the environment and flags (see --help), then serve until
// SIGTERM or SIGINT, finish in-flight requests and close the database. SIGHUP reopens the
// access log file (log rotation). Files it creates are its user's only (umask 077).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "app.h"
#include "http.h"
#include "migrate_store.h"
#include "store_factory.h"

namespace {

void Log(const sima::Json& line) { std::cerr << sima::server::RenderJson(line) << std::endl; }

}  // namespace

int main(int argc, char** argv) {
  using namespace sima::server;
  // The database, its WAL, the access log and the mail folder hold keys and customers' data.
  ::umask(077);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "migrate-store") {
    return RunMigrateStore({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  auto loaded = LoadConfig(args, [](const char* name) { return std::getenv(name); });
  if (!loaded) {
    std::cerr << "sima-server: " << loaded.error().ToString() << "\n";
    return 2;
  }
  if (loaded->help) {
    std::cout << HelpText();
    return 0;
  }
  for (const std::string& warning : loaded->warnings) {
    std::cerr << "sima-server: warning: " << warning << "\n";
  }

  // Signals are taken by one thread with sigwait; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto created = App::Create({loaded->config});
  if (!created) {
    std::cerr << "sima-server: " << created.error().ToString() << "\n";
    return 1;
  }
  std::unique_ptr<App> app = std::move(created).value();
  auto port = app->Bind();
  if (!port) {
    std::cerr << "sima-server: " << port.error().ToString() << "\n";
    return 1;
  }
  const Config& config = app->config();
  Log({{"msg", "listening"},
       {"addr", config.host + ":" + std::to_string(*port)},
       {"db", DisplayDb(config.db)},
       {"admin_api", !config.admin_token.empty()}});

  App* server = app.get();
  std::thread waiter([server, &signals] {
    int sig = 0;
    for (;;) {
      sigwait(&signals, &sig);
      if (sig != SIGHUP) break;
      server->ReopenLogs();
      Log({{"msg", "access log reopened"}});
    }
    Log({{"msg", "stopping"}, {"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    server->Stop();
  });
  const bool served = server->Listen();
  ::kill(::getpid(), SIGTERM);  // wakes the waiter if Listen() ended on its own
  waiter.join();
  app.reset();  // closes the database after the last request
  Log({{"msg", "stopped"}});
  return served ? 0 : 1;
}

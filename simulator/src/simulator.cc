#include "sima/simulator/simulator.h"

#include <thread>

#include "context.h"
#include "esewa_flow.h"
#include "khalti_flow.h"
#include "responses.h"
#include "sima/text.h"

namespace sima::simulator {

Simulator::Impl::Impl(Options opts)
    : options(std::move(opts)), faults(options.faults), courier(options.log) {}

void Simulator::Impl::Delay(int ms) {
  if (ms <= 0) return;
  std::unique_lock<std::mutex> lock(stop_mu);
  stop_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping; });
}

Simulator::Simulator(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& sim = *impl_;
  const int threads = sim.options.threads > 0 ? sim.options.threads : 16;
  sim.server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  sim.server.set_keep_alive_timeout(2);
  sim.server.set_keep_alive_max_count(100);
  sim.server.set_payload_max_length(1 << 20);
  sim.server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const char* detail = res.status == 404   ? "Not found."
                             : res.status == 405 ? "Method not allowed."
                             : res.status == 400
                                 ? "Bad request (a POST needs a body or Content-Length: 0)."
                                 : "Error.";
        SendJson(res, res.status, nlohmann::json{{"detail", detail}});
        return httplib::Server::HandlerResponse::Handled;
      }));
  if (sim.options.log) {
    sim.server.set_logger([&sim](const httplib::Request& req, const httplib::Response& res) {
      sim.options.log(req.method + " " + req.path + " -> " + std::to_string(res.status));
    });
  }
  InstallKhaltiApi(sim);
  InstallKhaltiPages(sim);
  InstallEsewaForm(sim);
  InstallEsewaStatus(sim);
  InstallControl(sim);
}

Simulator::~Simulator() { Stop(); }

void Simulator::Impl::Bound(int bound_port) {
  port = bound_port;
  public_url = options.public_url.empty() ? "http://" + options.host + ":" + std::to_string(port)
                                          : std::string(TrimEnd(options.public_url, "/"));
}

int Simulator::BindToAnyPort() {
  const int port = impl_->server.bind_to_any_port(impl_->options.host);
  if (port < 0) return -1;
  impl_->Bound(port);
  return port;
}

bool Simulator::Bind() {
  if (!impl_->server.bind_to_port(impl_->options.host, impl_->options.port)) return false;
  impl_->Bound(impl_->options.port);
  return true;
}

bool Simulator::Listen() { return impl_->server.listen_after_bind(); }

void Simulator::WaitUntilReady() const {
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Simulator::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->courier.Stop();
  impl_->server.stop();
}

int Simulator::port() const { return impl_->port; }
const std::string& Simulator::public_url() const { return impl_->public_url; }

Faults Simulator::faults() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->faults;
}

void Simulator::set_faults(const Faults& faults) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults = faults;
}

Status Simulator::PatchFaults(const nlohmann::json& patch) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ApplyFaultPatch(impl_->faults, patch);
}

void Simulator::Impl::Reset() {
  std::lock_guard<std::mutex> lock(mu);
  khalti.clear();
  esewa.clear();
  faults = options.faults;
  khalti_lookups = 0;
  esewa_status_checks = 0;
}

void Simulator::Reset() { impl_->Reset(); }

nlohmann::ordered_json Simulator::Impl::PaymentsJson() {
  std::lock_guard<std::mutex> lock(mu);
  nlohmann::ordered_json out;
  out["khalti"] = nlohmann::ordered_json::array();
  out["esewa"] = nlohmann::ordered_json::array();
  for (auto& [pidx, p] : khalti) {
    KhaltiRefresh(p, Now());
    out["khalti"].push_back(KhaltiPaymentJson(*this, p));
  }
  for (auto& [uuid, p] : esewa) {
    EsewaRefresh(*this, p);
    out["esewa"].push_back(EsewaPaymentJson(p));
  }
  return out;
}

nlohmann::json Simulator::Payments() const {
  return nlohmann::json::parse(impl_->PaymentsJson().dump());
}

}  // namespace sima::simulator

#include "sima/sim/simulator.h"

#include <thread>

#include "context.h"
#include "esewa_flow.h"
#include "khalti_flow.h"
#include "responses.h"

namespace sima::sim {

Simulator::Impl::Impl(Options opts)
    : options(std::move(opts)), faults(options.faults), courier(options.log) {}

void Simulator::Impl::delay(int ms) {
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
        send_json(res, res.status, nlohmann::json{{"detail", detail}});
        return httplib::Server::HandlerResponse::Handled;
      }));
  if (sim.options.log) {
    sim.server.set_logger([&sim](const httplib::Request& req, const httplib::Response& res) {
      sim.options.log(req.method + " " + req.path + " -> " + std::to_string(res.status));
    });
  }
  install_khalti_api(sim);
  install_khalti_pages(sim);
  install_esewa_form(sim);
  install_esewa_status(sim);
  install_control(sim);
}

Simulator::~Simulator() { stop(); }

namespace {
std::string strip_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}
}  // namespace

int Simulator::bind_to_any_port() {
  impl_->port = impl_->server.bind_to_any_port(impl_->options.host);
  if (impl_->port < 0) return -1;
  impl_->public_url = impl_->options.public_url.empty()
                          ? "http://" + impl_->options.host + ":" + std::to_string(impl_->port)
                          : strip_slash(impl_->options.public_url);
  return impl_->port;
}

bool Simulator::bind() {
  if (!impl_->server.bind_to_port(impl_->options.host, impl_->options.port)) return false;
  impl_->port = impl_->options.port;
  impl_->public_url = impl_->options.public_url.empty()
                          ? "http://" + impl_->options.host + ":" + std::to_string(impl_->port)
                          : strip_slash(impl_->options.public_url);
  return true;
}

bool Simulator::listen_after_bind() { return impl_->server.listen_after_bind(); }

void Simulator::wait_until_ready() const {
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Simulator::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->courier.stop();
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

std::optional<std::string> Simulator::patch_faults(const nlohmann::json& patch) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return apply_patch(impl_->faults, patch);
}

void Simulator::reset() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->khalti.clear();
  impl_->esewa.clear();
  impl_->faults = impl_->options.faults;
}

nlohmann::json Simulator::payments() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  nlohmann::json out = {{"khalti", nlohmann::json::array()}, {"esewa", nlohmann::json::array()}};
  for (auto& [pidx, p] : impl_->khalti) {
    khalti_refresh(p, impl_->now());
    out["khalti"].push_back(nlohmann::json::parse(khalti_payment_json(*impl_, p).dump()));
  }
  for (auto& [uuid, p] : impl_->esewa) {
    esewa_refresh(*impl_, p);
    out["esewa"].push_back(nlohmann::json::parse(esewa_payment_json(p).dump()));
  }
  return out;
}

}  // namespace sima::sim

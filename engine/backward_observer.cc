#include "engine/backward_observer.h"

namespace psg::engine {
namespace {

BackwardObserver* active_observer = nullptr;

}  // namespace

BackwardObserver::Observing::Observing(BackwardObserver* observer) : previous_(active_observer) {
  active_observer = observer;
}

BackwardObserver::Observing::~Observing() { active_observer = previous_; }

BackwardObserver* BackwardObserver::Active() { return active_observer; }

}  // namespace psg::engine

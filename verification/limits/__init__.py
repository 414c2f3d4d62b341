"""The send policy: whether one SMS may be sent, decided in one place.

The entry point is `verification.limits.policy.claim_send`, which checks a send in a fixed order
(destination, lock, cooldown, pumping brake, counters) and either claims it or returns a typed
`Refusal`; `policy.give_back` returns whatever a claim took when its SMS never left. Its parts, one
module each: `destinations` (which numbers may get a code), `pumping` (the SMS-pumping brake, per
number range), `counters` (sliding-window send limits) with their storage in `backends/`, `locks`
(the per-key locks the counters and the brake hold), `outage` (failed sends limited on their own
while the provider is down), and `rates` (how limits and durations are written in the settings).

Nothing is imported here, so `verification.conf` can use `rates` while models are still loading.
"""

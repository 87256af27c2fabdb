"""The lab: the kit tried and learnt offline, above the library and never imported by it.

- ``sandbox``: a local sandbox AWS account (a moto server on 127.0.0.1), seeded with the
  demo buckets, trail and alarms;
- ``demo``: the demo world (a week of a static site's benign traffic with incidents
  injected, and its ground truth), uploaded into the sandbox; ``demo.job`` runs every
  notebook against it (``make demo``) and gives the notebooks their sandbox default;
- ``training``: the training lab's scenarios, questions and marking;
- ``evaluate``: the detection catalogue scored against the demo world's ground truth.
"""

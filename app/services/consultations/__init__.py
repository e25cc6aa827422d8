"""Credit consultations at the bureau: policy, rules, suggested decisions."""

"""The comparison report: coupling and change impact computed from the definitions (:mod:`.coupling`), and
the decision matrix with the recommendation it leads to under the user's priorities (:mod:`.decision`)."""

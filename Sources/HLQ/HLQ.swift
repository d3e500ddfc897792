// HLQ module.

// msgpackr checks `if (extractor)` and uses its JavaScript path without one.
module.exports = undefined;

/* First file of the bundle: defines what the second one uses, so the order of concatenation matters. */
window.E2E = window.E2E || {};
window.E2E.version = "v1";

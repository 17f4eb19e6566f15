(function (csstree) {
  "use strict";
  // Evaluated after css-tree's browser build (vendor/csstree.js), in the engine that checks
  // JavaScript: one function that matches a batch of declarations against their properties'
  // grammars with css-tree's lexer (the one stylelint uses). Input: JSON [[property, value], ...];
  // output: JSON, per pair null (it fits, or the lexer cannot know: an unknown property, var(),
  // a value its parser refuses) or [syntax, offset, length] of the mismatch, in UTF-16 units.
  var lexer = csstree.lexer;
  return function checkValues(json) {
    var pairs = JSON.parse(json), out = [];
    for (var i = 0; i < pairs.length; i++) {
      var answer = null;
      try {
        var error = lexer.matchProperty(pairs[i][0], pairs[i][1]).error;
        if (error && error.name === "SyntaxMatchError") {
          answer = [String(error.syntax), error.mismatchOffset | 0, error.mismatchLength | 0];
        }
      } catch (unknown) {
        answer = null;
      }
      out.push(answer);
    }
    return JSON.stringify(out);
  };
})(csstree)

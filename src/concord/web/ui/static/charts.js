// Draws every Vega-Lite spec on the page (and in fragments htmx swaps in) with vega-embed.
// The spec sits in a <script type="application/json"> inside the chart's container.
(function () {
  function draw(root) {
    root.querySelectorAll(".vega-chart").forEach(function (box) {
      if (box.dataset.drawn) return;
      var source = box.querySelector("script[type='application/json']");
      var target = box.querySelector(".vega-target");
      if (!source || !target || !window.vegaEmbed) return;
      box.dataset.drawn = "1";
      window.vegaEmbed(target, JSON.parse(source.textContent), {renderer: "svg", actions: false})
        .catch(function (error) { target.textContent = "The chart could not be drawn: " + error; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();

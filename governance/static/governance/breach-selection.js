// The breach list's selection: says how many breaches are ticked, on how many contracts (one action each).
(function () {
  const form = document.getElementById("breach-selection");
  if (!form) return;
  const count = form.querySelector("[data-testid=selection-count]");
  const button = form.querySelector("button[type=submit]");
  const boxes = () => Array.from(document.querySelectorAll('input[name=breaches][form="breach-selection"]'));
  function update() {
    const ticked = boxes().filter((box) => box.checked);
    const contracts = new Set(ticked.map((box) => box.dataset.contract));
    button.disabled = ticked.length === 0;
    if (ticked.length === 0) {
      count.textContent = "Tick breaches to open a corrective action (one per contract)";
    } else if (contracts.size === 1) {
      count.textContent = `${ticked.length} breach${ticked.length > 1 ? "es" : ""} ticked`;
    } else {
      count.textContent = `${ticked.length} breaches on ${contracts.size} contracts: one action per contract`;
    }
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches('input[name=breaches][form="breach-selection"]')) update();
  });
  update();
})();

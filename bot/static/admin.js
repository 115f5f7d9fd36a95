// The admin page works without JavaScript; this only adds confirmations and busy states.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  const button = form.querySelector("button[data-busy]");
  if (button) {
    button.textContent = button.dataset.busy;
    button.disabled = true;
  }
});

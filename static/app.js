// Show the custom base URL field only when "自定义地址" is chosen.
function syncEnvironmentField(root) {
  const env = root.querySelector("#environment");
  const custom = root.querySelector("#field-custom_base_url");
  if (env && custom) custom.hidden = env.value !== "custom";
}
document.addEventListener("change", (e) => { if (e.target.id === "environment") syncEnvironmentField(document); });
document.addEventListener("DOMContentLoaded", () => syncEnvironmentField(document));
document.addEventListener("htmx:afterSettle", () => syncEnvironmentField(document));

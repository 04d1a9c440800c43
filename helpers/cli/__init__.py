"""The workshop's commands (`make run`, `make lab`): not for notebooks, which call `helpers`."""

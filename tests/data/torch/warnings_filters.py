import warnings
import torch
import torch.nn.functional as F

warnings.warn("a warning of the script's own")
for i in range(3):
    warnings.warn("in a loop")
warnings.warn("deprecated!", DeprecationWarning)
warnings.warn(FutureWarning("an instance"))
print(F.softmax(torch.tensor([1.0, 2.0])))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    print(F.softmax(torch.tensor([1.0, 3.0])))
    warnings.warn("not shown")
warnings.filterwarnings("ignore", message="Implicit dimension")
print(F.softmax(torch.tensor([1.0, 4.0])))
warnings.filterwarnings("ignore", category=UserWarning)
warnings.warn("silenced too")
warnings.warn("a future one", FutureWarning)
warnings.simplefilter("error", FutureWarning)
try:
    warnings.warn("now an error", FutureWarning)
except FutureWarning as e:
    print("caught:", e)
warnings.filterwarnings("ignore")
print(F.mse_loss(torch.ones(2, 1), torch.ones(2)))
warnings.resetwarnings()
warnings.simplefilter("always")
for i in range(2):
    warnings.warn("always shown")
print("done")

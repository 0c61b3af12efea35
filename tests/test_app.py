"""The app answers gradio_client calls with real models on the embedded tier."""
import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    import os

    os.environ["ANOMALY_HUB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    import app

    demo = app.build_app()
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True, show_error=True,
                        max_file_size=app.MAX_FILE_SIZE)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_detect_scores_an_example_image(client):
    from gradio_client import handle_file

    from leaderboard import examples

    good, *rest = examples.example_images("brick")
    defect = next(p for p in rest if p.parent.name != "good")
    score_good, heat, text_good = client.predict(handle_file(str(good)), "patchcore", "brick", api_name="/detect")
    score_bad, _, text_bad = client.predict(handle_file(str(defect)), "patchcore", "brick", api_name="/detect")
    assert np.isfinite(score_good) and np.isfinite(score_bad)
    assert score_bad > score_good
    assert np.asarray(Image.open(heat)).shape[:2] == np.asarray(Image.open(good)).shape[:2]
    assert "threshold" in text_good and "ANOMALOUS" in text_bad


def test_detect_refuses_a_non_image(client, tmp_path):
    from gradio_client import handle_file

    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(bogus)), "patchcore", "brick", api_name="/detect")
    assert "image" in str(info.value).lower()


def test_detect_refuses_an_unknown_method(client):
    from gradio_client import handle_file

    from leaderboard import examples

    with pytest.raises(Exception, match="Unknown method|not in the list of choices"):
        client.predict(handle_file(str(examples.example_images("brick")[0])), "nope", "brick", api_name="/detect")

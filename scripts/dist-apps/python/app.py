"""The Python README's Flask quick start."""

from flask import Flask

from gds_metrics import GDSMetrics

app = Flask(__name__)

metrics = GDSMetrics()
metrics.init_app(app)


@app.route("/")
def index():
    return "ok"
